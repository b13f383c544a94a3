//! `POST /api/payments/webhook`: Stripe's deliveries, signed here as Stripe signs them. Only a
//! valid signature over the exact body, made within the tolerance, is accepted; a
//! `payment_intent.succeeded` records the order's one payment with its `payment.created`,
//! however often and in whatever order Stripe delivers; a success for a cancelled order is
//! refunded.

use std::collections::BTreeSet;

use serde_json::json;
use ticketing_common::{
    domain::{OrderId, UserId},
    events::{PaymentCreated, Subject},
    testing::EventProbe,
};

use payments::store::{RefundReason, RefundStatus};

use crate::{
    cards::{intent_event, now, signed, signed_with, succeeded},
    helpers::{TestApp, body_of, errors_of, spawn_app},
};

/// Nothing was recorded for `order`: no payment, no refund, no event.
async fn nothing_recorded(app: &TestApp, order: OrderId) {
    assert_eq!(app.payment_of(order).await, None);
    assert!(app.refunds_of(order).await.is_empty());
    assert_eq!(app.published(Subject::PaymentCreated).await, 0);
}

#[tokio::test]
async fn a_signed_success_records_the_payment_once_and_announces_it() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 2550).await;

    let response = app
        .deliver_signed(&succeeded(order, "ch_card_1", 2550))
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(body_of(response).await, json!({ "received": true }));
    let payment = app.payment_of(order).await.expect("the payment is stored");
    assert_eq!(payment.stripe_id.as_str(), "ch_card_1");
    assert_eq!(payment.amount.cents(), 2550);
    let event = created.next().await;
    assert_eq!(event.data.id, payment.id);
    assert_eq!(event.data.order_id, order);
    assert_eq!(event.data.stripe_id, "ch_card_1");
    assert_eq!(app.published(Subject::PaymentCreated).await, 1);
    assert!(app.refunds_of(order).await.is_empty());
    assert!(
        app.stripe.calls().is_empty(),
        "the webhook calls no Stripe API"
    );
}

#[tokio::test]
async fn a_missing_forged_or_tampered_signature_is_refused_with_400() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 2000).await;
    let body = succeeded(order, "ch_card_1", 2000).to_string().into_bytes();
    let good = signed(&body, now());
    let mut tampered = body.clone();
    let at = tampered.len() - 2;
    tampered[at] = b' ';
    let cases: [(&str, &[u8], Option<String>, &str); 7] = [
        ("no header", &body, None, "Missing Stripe-Signature header"),
        (
            "another secret",
            &body,
            Some(signed_with("whsec_someone_else", &body, now())),
            "Invalid Stripe signature",
        ),
        (
            "a changed body",
            &tampered,
            Some(good.clone()),
            "Invalid Stripe signature",
        ),
        (
            "v0 only",
            &body,
            Some(good.replace("v1=", "v0=")),
            "Invalid Stripe signature",
        ),
        (
            "no timestamp",
            &body,
            Some(good.split(',').skip(1).collect::<Vec<_>>().join(",")),
            "Invalid Stripe signature",
        ),
        (
            "garbage",
            &body,
            Some("t=soon,v1=nope".into()),
            "Invalid Stripe signature",
        ),
        (
            "an empty body",
            b"",
            Some(good.clone()),
            "Invalid Stripe signature",
        ),
    ];

    for (case, body, signature, message) in cases {
        let response = app.deliver(body, signature.as_deref()).await;
        assert_eq!(response.status(), 400, "{case}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": message }]),
            "{case}"
        );
    }
    nothing_recorded(&app, order).await;
}

#[tokio::test]
async fn a_signature_older_or_newer_than_five_minutes_is_refused_even_when_valid() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 2000).await;
    let body = succeeded(order, "ch_card_1", 2000).to_string().into_bytes();

    for at in [now() - 6 * 60, now() + 6 * 60] {
        let response = app.deliver(&body, Some(&signed(&body, at))).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Stripe signature timestamp is outside the tolerance" }])
        );
    }
    nothing_recorded(&app, order).await;
    // Within the tolerance the same body is accepted.
    let response = app.deliver(&body, Some(&signed(&body, now() - 60))).await;
    assert_eq!(response.status(), 200);
    assert!(app.payment_of(order).await.is_some());
}

#[tokio::test]
async fn a_replayed_delivery_and_a_duplicate_event_record_one_payment() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let order = app.order(UserId::new(), 3000).await;
    let body = succeeded(order, "ch_card_1", 3000).to_string().into_bytes();
    let signature = signed(&body, now());
    // The same event again under a new id, as Stripe may send.
    let duplicate = succeeded(order, "ch_card_1", 3000);

    for _ in 0..3 {
        let response = app.deliver(&body, Some(&signature)).await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.deliver_signed(&duplicate).await.status(), 200);

    let payment = app.payment_of(order).await.expect("the payment");
    assert_eq!(created.next().await.data.id, payment.id);
    // One insert, one event: the other deliveries found the payment on record.
    assert_eq!(app.published(Subject::PaymentCreated).await, 1);
    assert!(app.refunds_of(order).await.is_empty());
}

#[tokio::test]
async fn out_of_order_events_change_nothing_once_the_success_is_in() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1500).await;
    // A failed first attempt and the processing step, delivered before and after the success.
    let failed = intent_event("payment_intent.payment_failed", order, "ch_declined", 1500);
    let processing = intent_event("payment_intent.processing", order, "ch_card_1", 1500);
    let requires_action = intent_event("payment_intent.requires_action", order, "", 1500);

    for event in [&processing, &requires_action] {
        assert_eq!(app.deliver_signed(event).await.status(), 200);
    }
    assert_eq!(
        app.payment_of(order).await,
        None,
        "not paid before the success"
    );
    assert_eq!(
        app.deliver_signed(&succeeded(order, "ch_card_1", 1500))
            .await
            .status(),
        200
    );
    for event in [&failed, &processing] {
        assert_eq!(app.deliver_signed(event).await.status(), 200);
    }

    let payment = app.payment_of(order).await.expect("the payment stays");
    assert_eq!(payment.stripe_id.as_str(), "ch_card_1");
    assert_eq!(app.published(Subject::PaymentCreated).await, 1);
    assert!(app.refunds_of(order).await.is_empty());
}

#[tokio::test]
async fn a_success_before_the_order_is_replicated_is_recorded_and_refunded_if_it_is_cancelled() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = OrderId::new();

    // Stripe is faster than our own events: the order is not in the replica yet.
    let response = app
        .deliver_signed(&succeeded(order, "ch_card_early", 1800))
        .await;
    assert_eq!(response.status(), 200);
    assert!(app.payment_of(order).await.is_some());

    app.publish_order_created(order, buyer, 1800).await;
    app.publish_order_cancelled(order, 1).await;
    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].charge_id.as_str(), "ch_card_early");
    assert_eq!(refunds[0].reason, RefundReason::OrderCancelled);
}

#[tokio::test]
async fn a_success_for_an_order_cancelled_meanwhile_is_refunded_once() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 4200).await;
    // The buyer confirmed the card; the order expired before Stripe's success arrived.
    app.cancel(order).await;

    let event = succeeded(order, "ch_card_late", 4200);
    assert_eq!(app.deliver_signed(&event).await.status(), 200);
    // Stripe retries (say our 200 was lost): still one refund.
    assert_eq!(app.deliver_signed(&event).await.status(), 200);

    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    let refund = &refunds[0];
    assert_eq!(refund.charge_id.as_str(), "ch_card_late");
    assert_eq!(refund.amount.cents(), 4200);
    assert_eq!(refund.reason, RefundReason::OrderCancelled);
    let keys: BTreeSet<_> = app
        .stripe
        .refunds()
        .into_iter()
        .map(|call| {
            assert_eq!(
                call.form.get("charge").map(String::as_str),
                Some("ch_card_late")
            );
            call.idempotency_key
        })
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([Some(format!("refund-{order}-ch_card_late"))]),
        "one refund at Stripe"
    );
    // The charge stays on record with its refund; orders leaves the cancelled order cancelled.
    assert!(app.payment_of(order).await.is_some());
    assert_eq!(created.next().await.data.order_id, order);
}

#[tokio::test]
async fn a_card_success_for_an_order_paid_by_token_is_refunded_as_a_second_charge() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 900).await;
    assert_eq!(app.pay_for(buyer, order).await.status(), 201);
    let kept = app.payment_of(order).await.expect("payment").stripe_id;

    let response = app
        .deliver_signed(&succeeded(order, "ch_card_second", 900))
        .await;

    assert_eq!(response.status(), 200);
    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].charge_id.as_str(), "ch_card_second");
    assert_eq!(refunds[0].reason, RefundReason::DuplicateCharge);
    assert_eq!(
        app.payment_of(order).await.expect("payment").stripe_id,
        kept,
        "the first payment stays the order's"
    );
    assert_eq!(app.published(Subject::PaymentCreated).await, 1);
}

#[tokio::test]
async fn events_that_are_not_ours_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1000).await;
    let mut foreign = succeeded(order, "ch_other", 1000);
    foreign["data"]["object"]["metadata"] = json!({ "cart": "42" });
    let refund = json!({
        "id": "evt_refund", "object": "event", "type": "charge.refunded",
        "data": { "object": { "id": "ch_other", "object": "charge" } },
    });

    for event in [foreign, refund] {
        let response = app.deliver_signed(&event).await;
        assert_eq!(response.status(), 200, "{event}");
    }
    nothing_recorded(&app, order).await;
}

#[tokio::test]
async fn a_signed_body_that_is_no_usable_event_is_400() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1000).await;
    let mut no_charge = succeeded(order, "ch_x", 1000);
    no_charge["data"]["object"]["latest_charge"] = json!(null);

    for body in [
        b"not json".to_vec(),
        b"[]".to_vec(),
        no_charge.to_string().into_bytes(),
    ] {
        let response = app.deliver(&body, Some(&signed(&body, now()))).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Unreadable Stripe event" }])
        );
    }
    nothing_recorded(&app, order).await;
}

#[tokio::test]
async fn a_delivery_over_64_kib_is_413_and_a_large_one_under_it_is_read() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1000).await;
    let with_description = |bytes: usize| {
        let mut event = succeeded(order, "ch_big", 1000);
        event["data"]["object"]["description"] = json!("x".repeat(bytes));
        event.to_string().into_bytes()
    };

    let body = with_description(64 * 1024);
    let response = app.deliver(&body, Some(&signed(&body, now()))).await;

    assert_eq!(response.status(), 413);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Request body must be at most 64 KiB" }])
    );
    nothing_recorded(&app, order).await;
    // Far over the 2 KiB of the other payments routes and the 16 KiB default.
    let body = with_description(48 * 1024);
    let response = app.deliver(&body, Some(&signed(&body, now()))).await;
    assert_eq!(response.status(), 200);
    assert!(app.payment_of(order).await.is_some());
}
