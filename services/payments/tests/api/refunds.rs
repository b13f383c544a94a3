//! "Paid too late" (DESIGN.md §5): every charge whose order is or becomes cancelled goes back.

use chrono::Utc;
use futures::future::join;
use serde_json::json;
use ticketing_common::{
    domain::UserId,
    events::{PaymentCreated, Subject},
    testing::EventProbe,
};

use payments::store::{RefundReason, RefundStatus};

use crate::{
    helpers::{errors_of, spawn_app},
    stripe_double::Answer,
};

#[tokio::test]
async fn a_paid_order_cancelled_afterwards_is_refunded_once() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 3000).await;
    assert_eq!(app.pay_for(buyer, order).await.status(), 201);
    let charge = app.payment_of(order).await.expect("payment").stripe_id;

    app.publish_order_cancelled(order, 1).await;
    app.publish_order_cancelled(order, 1).await;

    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    let refund = &refunds[0];
    assert_eq!(refund.charge_id, charge);
    assert_eq!(refund.amount.cents(), 3000);
    assert_eq!(refund.reason, RefundReason::OrderCancelled);
    assert!(
        refund
            .refund_id
            .as_ref()
            .is_some_and(|id| id.as_str().starts_with("re_"))
    );
    // Both cancellations handled and the one refund done: nothing is left that would call
    // Stripe again.
    app.wait_until_handled(Subject::OrderCancelled, 2).await;
    let refunds = app.refunds_of(order).await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].status, RefundStatus::Refunded);
    let calls = app.stripe.refunds();
    assert_eq!(calls.len(), 1, "refunded once: {calls:?}");
    assert_eq!(
        calls[0].form.get("charge").map(String::as_str),
        Some(charge.as_str())
    );
    assert_eq!(
        calls[0].idempotency_key.as_deref(),
        Some(format!("refund-{order}-{charge}").as_str())
    );
}

#[tokio::test]
async fn an_order_cancelled_while_its_charge_is_in_flight_is_refunded() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 2000).await;
    app.stripe.answer_charges(Answer::Hold);

    let paying = app.pay_for(buyer, order);
    let cancelling = async {
        app.stripe.charges_arrived(1).await;
        app.cancel(order).await;
        app.stripe.release(1);
    };
    let (response, ()) = join(paying, cancelling).await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Cannot pay for a cancelled order" }])
    );
    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].reason, RefundReason::OrderCancelled);
    // The route's re-check and the cancellation listener may both reach Stripe; they send one
    // idempotency key, so Stripe makes one refund.
    let keys: std::collections::BTreeSet<_> = app
        .stripe
        .refunds()
        .into_iter()
        .map(|call| call.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 1, "one refund at Stripe: {keys:?}");
    // The charge is on record with its refund; orders leaves a cancelled order cancelled.
    let payment = app.payment_of(order).await.expect("payment kept on record");
    assert_eq!(refunds[0].charge_id, payment.stripe_id);
    assert_eq!(created.next().await.data.order_id, order);
}

#[tokio::test]
async fn a_refund_stripe_fails_stays_due_and_is_retried_until_made() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 2500).await;
    assert_eq!(app.pay_for(buyer, order).await.status(), 201);
    app.stripe.answer_refunds(Answer::outage());

    app.publish_order_cancelled(order, 1).await;

    let refunds = app
        .refunds_when(order, |r| r.iter().any(|r| r.last_error.is_some()))
        .await;
    assert_eq!(refunds[0].status, RefundStatus::Due);
    app.stripe.answer_refunds(Answer::Forward);
    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].last_error, None);
    let keys: Vec<_> = app
        .stripe
        .refunds()
        .into_iter()
        .map(|call| call.idempotency_key)
        .collect();
    assert!(keys.len() >= 2, "tried again: {keys:?}");
    assert!(
        keys.windows(2).all(|pair| pair[0] == pair[1]),
        "one key: {keys:?}"
    );
}

#[tokio::test]
async fn a_payment_its_writer_left_unchecked_is_refunded_by_the_sweep() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1200).await;
    // The cancellation is handled before the payment exists, and the writer that stored the
    // payment stopped before it read the order again.
    app.cancel(order).await;
    app.store_unchecked_payment(order, 1200, Utc::now() - chrono::Duration::minutes(1))
        .await;

    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;

    assert_eq!(refunds[0].charge_id.as_str(), "ch_left_unchecked");
    assert_eq!(refunds[0].amount.cents(), 1200);
}

#[tokio::test]
async fn a_second_card_charged_while_the_first_paid_is_refunded() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 5000).await;
    app.stripe.answer_charges(Answer::Hold);

    let first = app.pay_with(buyer, order, "tok_visa");
    let second = app.pay_with(buyer, order, "tok_mastercard");
    let release = async {
        app.stripe.charges_arrived(2).await;
        app.stripe.release(2);
    };
    let (first, (second, ())) = join(first, join(second, release)).await;

    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 400]);
    let kept = app.payment_of(order).await.expect("payment").stripe_id;
    let refunds = app
        .refunds_when(order, |r| {
            r.iter().any(|r| r.status == RefundStatus::Refunded)
        })
        .await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].reason, RefundReason::DuplicateCharge);
    assert_ne!(refunds[0].charge_id, kept, "the kept charge stays");
}
