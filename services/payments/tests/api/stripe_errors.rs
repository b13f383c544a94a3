use serde_json::json;
use ticketing_common::{
    domain::UserId,
    events::{PaymentCreated, Subject},
    testing::EventProbe,
};

use crate::{
    helpers::{errors_of, spawn_app, spawn_app_with_stripe_at},
    stripe_double::{Answer, unreachable_base},
};

#[tokio::test]
async fn a_declined_card_is_a_402_with_stripes_message_and_nothing_is_kept() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1500).await;
    app.stripe.answer_charges(Answer::card_declined());

    let response = app.pay_with(buyer, order, "tok_chargeDeclined").await;

    assert_eq!(response.status(), 402);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Your card was declined." }])
    );
    // No payment stored, so no event written with one.
    assert!(app.payment_of(order).await.is_none());
    assert_eq!(app.published(Subject::PaymentCreated).await, 0);

    // Another card is a new attempt with its own key (Stripe replays a decline for its key).
    app.stripe.answer_charges(Answer::Forward);
    let response = app.pay_with(buyer, order, "tok_mastercard").await;
    assert_eq!(response.status(), 201);
    let keys: Vec<_> = app
        .stripe
        .charges()
        .into_iter()
        .map(|c| c.idempotency_key)
        .collect();
    assert_eq!(
        keys,
        [
            Some(format!("charge-{order}-tok_chargeDeclined")),
            Some(format!("charge-{order}-tok_mastercard")),
        ]
    );
    assert_eq!(created.next().await.data.order_id, order);
}

#[tokio::test]
async fn a_token_stripe_refuses_is_a_400_with_stripes_message() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1500).await;
    app.stripe.answer_charges(Answer::Reply(
        400,
        json!({ "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "source",
            "message": "No such token: 'tok_unknown'",
        } }),
    ));

    let response = app.pay_with(buyer, order, "tok_unknown").await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "No such token: 'tok_unknown'" }])
    );
    assert!(app.payment_of(order).await.is_none());
}

#[tokio::test]
async fn stripe_unreachable_is_a_502_and_nothing_is_kept() {
    let app = spawn_app_with_stripe_at(unreachable_base().await).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1500).await;

    let response = app.pay_for(buyer, order).await;

    assert_eq!(response.status(), 502);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "The payment provider is not available, please try again" }])
    );
    // No payment stored, so no event written with one.
    assert!(app.payment_of(order).await.is_none());
    assert_eq!(app.published(Subject::PaymentCreated).await, 0);
}

#[tokio::test]
async fn a_stripe_failure_is_a_502_and_nothing_is_kept() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1500).await;
    app.stripe.answer_charges(Answer::outage());

    let response = app.pay_for(buyer, order).await;

    assert_eq!(response.status(), 502);
    // No payment stored, so no event written with one.
    assert!(app.payment_of(order).await.is_none());
    assert_eq!(app.published(Subject::PaymentCreated).await, 0);
    assert_eq!(
        app.stripe.charges().len(),
        1,
        "tried once, not retried blindly"
    );
}
