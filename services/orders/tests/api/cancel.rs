use serde_json::json;
use ticketing_common::{
    domain::{OrderId, UserId},
    events::{OrderCancelled, Subject},
    testing::EventProbe,
};

use crate::helpers::{errors_of, id_of, spawn_app};

#[tokio::test]
async fn cancelling_releases_the_ticket_and_announces_it() {
    let app = spawn_app().await;
    let mut cancelled = EventProbe::<OrderCancelled>::new(&app.bus).await;
    let buyer = UserId::new();
    let ticket = app.ticket("Changed my mind", 100).await;
    let order = app.order(buyer, ticket).await;

    let response = app.cancel(Some(buyer), id_of(&order)).await;

    assert_eq!(response.status(), 204);
    let now = app.order_json(buyer, id_of(&order)).await;
    assert_eq!(
        (now["status"].as_str(), now["version"].as_i64()),
        (Some("cancelled"), Some(1))
    );
    let event = cancelled.next().await;
    assert_eq!(event.data.id.to_string(), id_of(&order));
    assert_eq!(event.data.version.get(), 1);
    assert_eq!(event.data.ticket.id, ticket);
    // the ticket is free again
    app.order(UserId::new(), ticket).await;
}

#[tokio::test]
async fn an_order_is_cancelled_once() {
    let app = spawn_app().await;
    let mut cancelled = EventProbe::<OrderCancelled>::new(&app.bus).await;
    let buyer = UserId::new();
    let order = app.order(buyer, app.ticket("Once", 100).await).await;
    assert_eq!(app.cancel(Some(buyer), id_of(&order)).await.status(), 204);

    let response = app.cancel(Some(buyer), id_of(&order)).await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Order cannot be cancelled" }])
    );
    cancelled.next().await;
    // The refused cancel wrote nothing, so no second event: the first is the only one.
    assert_eq!(app.order_json(buyer, id_of(&order)).await["version"], 1);
    assert_eq!(app.published(Subject::OrderCancelled).await, 1);
}

#[tokio::test]
async fn a_complete_order_cannot_be_cancelled() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, app.ticket("Paid", 100).await).await;
    app.publish_payment(id_of(&order)).await;
    app.order_when(buyer, id_of(&order), |o| o["status"] == "complete")
        .await;

    let response = app.cancel(Some(buyer), id_of(&order)).await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Order cannot be cancelled" }])
    );
}

#[tokio::test]
async fn only_the_owner_cancels_and_unknown_orders_are_404() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, app.ticket("Not yours", 100).await).await;

    assert_eq!(app.cancel(None, id_of(&order)).await.status(), 401);
    assert_eq!(
        app.cancel(Some(UserId::new()), id_of(&order))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.cancel(Some(buyer), &OrderId::new().to_string())
            .await
            .status(),
        404
    );
    assert_eq!(app.cancel(Some(buyer), "nope").await.status(), 404);
    assert_eq!(
        app.order_json(buyer, id_of(&order)).await["status"],
        "created"
    );
}
