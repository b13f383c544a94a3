use futures::future::join_all;
use serde_json::json;
use ticketing_common::{
    domain::{OrderId, UserId},
    events::{PaymentCreated, Subject},
    testing::EventProbe,
};

use crate::helpers::{STRIPE_KEY, body_of, errors_of, spawn_app};

#[tokio::test]
async fn paying_charges_the_order_price_stores_the_payment_and_announces_it() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 2550).await;

    let response = app.pay_for(buyer, order).await;

    assert_eq!(response.status(), 201);
    let body = body_of(response).await;
    let id = body["id"].as_str().expect("the payment id");
    assert_eq!(body, json!({ "id": id }));
    let charges = app.stripe.charges();
    assert_eq!(charges.len(), 1);
    let charge = &charges[0];
    assert_eq!(charge.method, "POST");
    assert_eq!(charge.form.get("amount").map(String::as_str), Some("2550"));
    assert_eq!(charge.form.get("currency").map(String::as_str), Some("usd"));
    assert_eq!(
        charge.form.get("source").map(String::as_str),
        Some("tok_visa")
    );
    assert_eq!(
        charge.idempotency_key.as_deref(),
        Some(format!("charge-{order}-tok_visa").as_str())
    );
    assert_eq!(
        charge.authorization.as_deref(),
        Some(format!("Bearer {STRIPE_KEY}").as_str())
    );
    let payment = app.payment_of(order).await.expect("the payment is stored");
    assert_eq!(payment.id.to_string(), id);
    assert_eq!(payment.stripe_id.as_str(), "ch_double1");
    assert_eq!(payment.amount.cents(), 2550);
    let event = created.next().await;
    assert_eq!(event.data.id.to_string(), id);
    assert_eq!(event.data.order_id, order);
    assert_eq!(event.data.stripe_id, "ch_double1");
    // The payment was written once, with its one event: nothing else can follow.
    assert_eq!(app.published(Subject::PaymentCreated).await, 1);
    assert!(app.refunds_of(order).await.is_empty());
}

#[tokio::test]
async fn paying_requires_a_session() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1000).await;

    let response = app
        .pay(None, &json!({ "orderId": order, "token": "tok_visa" }))
        .await;

    assert_eq!(response.status(), 401);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not authorized" }])
    );
    assert!(app.stripe.calls().is_empty());
}

#[tokio::test]
async fn missing_or_malformed_fields_are_400_named_as_sent() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let user = Some(buyer);
    let order = app.order(buyer, 1000).await;
    let cases = [
        (
            json!({}),
            json!([
                { "field": "orderId", "message": "OrderId must be provided" },
                { "field": "token", "message": "Token is required" },
            ]),
        ),
        (
            json!({ "orderId": "abc", "token": "tok_visa" }),
            json!([{ "field": "orderId", "message": "OrderId must be provided" }]),
        ),
        (
            json!({ "orderId": order, "token": "  " }),
            json!([{ "field": "token", "message": "Token is required" }]),
        ),
        (
            json!({ "orderId": order, "token": "tok visa\n" }),
            json!([{ "field": "token", "message": "Token is invalid" }]),
        ),
    ];
    for (body, expected) in cases {
        let response = app.pay(user, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(errors_of(response).await, expected, "{body}");
    }
    let response = app
        .pay(user, &json!({ "orderId": 42, "token": "tok_visa" }))
        .await;
    assert_eq!(response.status(), 400);
    assert!(app.stripe.calls().is_empty());
}

#[tokio::test]
async fn an_unknown_order_is_a_404() {
    let app = spawn_app().await;

    let response = app.pay_for(UserId::new(), OrderId::new()).await;

    assert_eq!(response.status(), 404);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not Found" }])
    );
}

#[tokio::test]
async fn someone_elses_order_is_a_401() {
    let app = spawn_app().await;
    let order = app.order(UserId::new(), 1000).await;

    let response = app.pay_for(UserId::new(), order).await;

    assert_eq!(response.status(), 401);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not authorized" }])
    );
    assert!(app.stripe.calls().is_empty());
}

#[tokio::test]
async fn a_cancelled_order_cannot_be_paid() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1000).await;
    app.cancel(order).await;

    let response = app.pay_for(buyer, order).await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Cannot pay for a cancelled order" }])
    );
    assert!(app.stripe.calls().is_empty());
    assert!(app.payment_of(order).await.is_none());
}

#[tokio::test]
async fn an_order_is_paid_once() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1000).await;
    assert_eq!(app.pay_for(buyer, order).await.status(), 201);

    let again = app.pay_for(buyer, order).await;

    assert_eq!(again.status(), 400);
    assert_eq!(
        errors_of(again).await,
        json!([{ "message": "Order already paid" }])
    );
    assert_eq!(app.stripe.charges().len(), 1, "no second charge");
    created.next().await;
    assert_eq!(app.published(Subject::PaymentCreated).await, 1);
}

#[tokio::test]
async fn concurrent_payments_for_one_order_make_one_payment() {
    let app = spawn_app().await;
    let mut created = EventProbe::<PaymentCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, 4200).await;

    let responses = join_all((0..8).map(|_| app.pay_for(buyer, order))).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 400, 400, 400, 400, 400, 400, 400]);
    for response in responses.into_iter().filter(|r| r.status() == 400) {
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Order already paid" }])
        );
    }
    // Every request that reached Stripe carried the one key, so Stripe made one charge.
    let charges = app.stripe.charges();
    assert!(!charges.is_empty());
    let key = format!("charge-{order}-tok_visa");
    assert!(
        charges
            .iter()
            .all(|c| c.idempotency_key.as_deref() == Some(key.as_str())),
        "{charges:?}"
    );
    let event = created.next().await;
    assert_eq!(event.data.order_id, order);
    assert_eq!(
        app.published(Subject::PaymentCreated).await,
        1,
        "one payment stored, one event"
    );
    assert!(app.refunds_of(order).await.is_empty(), "one charge, kept");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_never_pays() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 1_000).await;
    for body in [
        json!([order.to_string(), "tok_visa"]),
        json!(42),
        json!(null),
    ] {
        let response = app.pay(Some(buyer), &body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Request body must be a JSON object" }]),
            "{body}"
        );
    }
    assert!(app.payment_of(order).await.is_none(), "nothing was charged");
}
