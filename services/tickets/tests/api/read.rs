use serde_json::{Value, json};
use ticketing_common::domain::{OrderId, UserId};

use crate::helpers::{errors_of, spawn_app};

#[tokio::test]
async fn the_list_shows_tickets_for_sale_only() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let free = app.ticket_of(owner, "Free", 10.0).await;
    let reserved = app.ticket_of(owner, "Reserved", 20.0).await;
    app.publish_order_created(OrderId::new(), &reserved).await;
    app.ticket_when(reserved["id"].as_str().expect("id"), |t| {
        t.get("orderId").is_some()
    })
    .await;

    let listed: Value = app
        .api
        .get(app.url("/api/tickets"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");

    assert_eq!(listed, json!([free]));
}

#[tokio::test]
async fn a_ticket_is_shown_by_id() {
    let app = spawn_app().await;
    let ticket = app.ticket_of(UserId::new(), "Show me", 5.5).await;
    assert_eq!(
        app.ticket_json(ticket["id"].as_str().expect("id")).await,
        ticket
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = spawn_app().await;
    for id in [
        OrderId::new().to_string(),
        "not-an-id".to_owned(),
        "ZZZZZZZZZZZZZZZZZZZZZZZZ".to_owned(),
    ] {
        let response = app.get_ticket(&id).await;
        assert_eq!(response.status(), 404, "{id}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Not Found" }])
        );
    }
}
