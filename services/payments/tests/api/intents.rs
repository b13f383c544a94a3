//! `POST /api/payments/intents`: the PaymentIntent the buyer's browser confirms with a card,
//! opened at stripe-mock (through the recording double) with the checks of the token route.

use serde_json::json;
use ticketing_common::{
    domain::{OrderId, UserId},
    events::Subject,
};

use crate::{
    helpers::{STRIPE_KEY, body_of, errors_of, spawn_app},
    stripe_double::Answer,
};

#[tokio::test]
async fn an_intent_is_opened_for_the_order_price_in_usd_with_the_order_in_its_metadata() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 2550).await;

    let response = app.open_intent_for(buyer, order).await;

    assert_eq!(response.status(), 200);
    let body = body_of(response).await;
    let id = body["id"].as_str().expect("the PaymentIntent id");
    let secret = body["clientSecret"].as_str().expect("its client secret");
    assert!(id.starts_with("pi_"), "{body}");
    assert!(
        secret.starts_with("pi_") && secret.contains("_secret_"),
        "{body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
    let calls = app.stripe.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/v1/payment_intents")
    );
    let form = |key: &str| call.form.get(key).map(String::as_str);
    assert_eq!(form("amount"), Some("2550"));
    assert_eq!(form("currency"), Some("usd"));
    assert_eq!(form("allowed_payment_method_types[0]"), Some("card"));
    assert_eq!(form("metadata[order_id]"), Some(order.to_string().as_str()));
    assert_eq!(
        call.idempotency_key.as_deref(),
        Some(format!("intent-{order}").as_str())
    );
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Bearer {STRIPE_KEY}").as_str())
    );
    // Opening is not paying: nothing is recorded until Stripe says the money is in.
    assert_eq!(app.payment_of(order).await, None);
    assert_eq!(app.published(Subject::PaymentCreated).await, 0);
}

#[tokio::test]
async fn the_same_order_asks_stripe_for_the_same_intent_every_time() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1000).await;

    for _ in 0..2 {
        assert_eq!(app.open_intent_for(buyer, order).await.status(), 200);
    }

    let keys: Vec<_> = app
        .stripe
        .calls()
        .into_iter()
        .map(|call| call.idempotency_key)
        .collect();
    let key = Some(format!("intent-{order}"));
    assert_eq!(
        keys,
        vec![key.clone(), key],
        "one key, so Stripe answers one intent"
    );
}

#[tokio::test]
async fn opening_an_intent_requires_a_session_and_an_order_id() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1000).await;

    let anonymous = app.open_intent(None, &json!({ "orderId": order })).await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        errors_of(anonymous).await,
        json!([{ "message": "Not authorized" }])
    );
    for body in [
        json!({}),
        json!({ "orderId": "" }),
        json!({ "orderId": "not-an-id" }),
        json!({ "orderId": 42 }),
    ] {
        let response = app.open_intent(Some(buyer), &body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "OrderId must be provided", "field": "orderId" }]),
            "{body}"
        );
    }
    let not_an_object = app.open_intent(Some(buyer), &json!([order])).await;
    assert_eq!(not_an_object.status(), 400);
    assert!(app.stripe.calls().is_empty());
}

#[tokio::test]
async fn an_unknown_order_is_404_and_someone_elses_is_401() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1000).await;

    let unknown = app.open_intent_for(buyer, OrderId::new()).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        errors_of(unknown).await,
        json!([{ "message": "Not Found" }])
    );
    let stranger = app.open_intent_for(UserId::new(), order).await;
    assert_eq!(stranger.status(), 401);
    assert_eq!(
        errors_of(stranger).await,
        json!([{ "message": "Not authorized" }])
    );
    assert!(app.stripe.calls().is_empty());
}

#[tokio::test]
async fn a_cancelled_or_expired_order_cannot_be_paid_by_card() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let cancelled = app.order(buyer, 1000).await;
    app.cancel(cancelled).await;
    let expired = app.expired_order(buyer, 1000).await;

    for order in [cancelled, expired] {
        let response = app.open_intent_for(buyer, order).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Cannot pay for a cancelled order" }])
        );
    }
    // The token route refuses an expired order the same way.
    let response = app.pay_for(buyer, expired).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Cannot pay for a cancelled order" }])
    );
    assert!(app.stripe.calls().is_empty());
}

#[tokio::test]
async fn an_order_paid_already_gets_no_intent() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let by_token = app.order(buyer, 1000).await;
    assert_eq!(app.pay_for(buyer, by_token).await.status(), 201);
    let by_card = app.order(buyer, 1200).await;
    assert_eq!(
        app.deliver_signed(&crate::cards::succeeded(by_card, "ch_card_1", 1200))
            .await
            .status(),
        200
    );

    for order in [by_token, by_card] {
        let response = app.open_intent_for(buyer, order).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Order already paid" }])
        );
    }
    assert_eq!(app.stripe.calls().len(), 1, "the token's charge only");
}

#[tokio::test]
async fn stripe_failing_is_a_502_that_says_to_try_again() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1000).await;
    app.stripe.answer_intents(Answer::outage());

    let response = app.open_intent_for(buyer, order).await;

    assert_eq!(response.status(), 502);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "The payment provider is not available, please try again" }])
    );
}
