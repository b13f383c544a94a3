use serde_json::{Value, json};
use ticketing_common::{
    domain::UserId,
    events::{Subject, TicketCreated},
    testing::EventProbe,
};

use crate::helpers::{errors_of, spawn_app};

#[tokio::test]
async fn creating_a_ticket_requires_a_session() {
    let app = spawn_app().await;
    let response = app
        .create_ticket(None, &json!({ "title": "Concert", "price": 10 }))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not authorized" }])
    );
}

#[tokio::test]
async fn the_session_is_checked_before_the_body() {
    let app = spawn_app().await;
    let response = app
        .create_ticket(None, &json!({ "title": "", "price": -1 }))
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn bad_titles_and_prices_are_reported_per_field() {
    let app = spawn_app().await;
    let user = Some(UserId::new());
    let cases = [
        (
            json!({ "title": "", "price": 10 }),
            json!([{ "field": "title", "message": "Title is required" }]),
        ),
        (
            json!({ "title": "   ", "price": 10 }),
            json!([{ "field": "title", "message": "Title is required" }]),
        ),
        (
            json!({ "price": 10 }),
            json!([{ "field": "title", "message": "Title is required" }]),
        ),
        (
            json!({ "title": "Concert", "price": -10 }),
            json!([{ "field": "price", "message": "Price must be greater than 0" }]),
        ),
        (
            json!({ "title": "Concert", "price": 0 }),
            json!([{ "field": "price", "message": "Price must be greater than 0" }]),
        ),
        (
            json!({ "title": "Concert" }),
            json!([{ "field": "price", "message": "Price must be greater than 0" }]),
        ),
        (
            json!({ "title": "Concert", "price": "ten" }),
            json!([{ "field": "price", "message": "Price must be greater than 0" }]),
        ),
        (
            json!({ "title": "Concert", "price": 10.999 }),
            json!([{ "field": "price", "message": "Price must have at most two decimals" }]),
        ),
        (
            json!({ "title": "Concert", "price": 1e12 }),
            json!([{ "field": "price", "message": "Price must be at most 1000000000" }]),
        ),
        (
            json!({}),
            json!([
                { "field": "price", "message": "Price must be greater than 0" },
                { "field": "title", "message": "Title is required" },
            ]),
        ),
    ];
    for (body, expected) in cases {
        let response = app.create_ticket(user, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(errors_of(response).await, expected, "{body}");
    }
    let listed: Value = app
        .api
        .get(app.url("/api/tickets"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(listed, json!([]), "nothing was created");
}

#[tokio::test]
async fn a_valid_ticket_is_created_and_announced() {
    let app = spawn_app().await;
    let mut created_events = EventProbe::<TicketCreated>::new(&app.bus).await;
    let owner = UserId::new();

    let response = app
        .create_ticket(
            Some(owner),
            &json!({ "title": "  Concert  ", "price": 19.99 }),
        )
        .await;

    assert_eq!(response.status(), 201);
    let ticket: Value = response.json().await.expect("json");
    assert_eq!(ticket["title"], "Concert");
    assert_eq!(ticket["price"], json!(19.99));
    assert_eq!(ticket["userId"], owner.to_string());
    assert_eq!(ticket["version"], 0);
    assert!(ticket.get("orderId").is_none());
    let event = created_events.next().await;
    assert_eq!(
        event.data.id.to_string(),
        ticket["id"].as_str().expect("id")
    );
    assert_eq!(event.data.price.cents(), 1999);
    assert_eq!(event.data.title, "Concert");
    assert_eq!(event.data.user_id, owner);
    // The ticket was written once, with its one event: nothing else can follow.
    assert_eq!(app.published(Subject::TicketCreated).await, 1);
}

#[tokio::test]
async fn prices_survive_the_round_trip_exactly() {
    let app = spawn_app().await;
    let owner = UserId::new();
    for text in ["19.99", "0.1", "0.3", "1234567.89", "0.01"] {
        let body = format!(r#"{{"title":"Exact","price":{text}}}"#);
        let response = app
            .api
            .post(app.url("/api/tickets"))
            .header("cookie", app.cookie(owner))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.expect("json");
        let raw = app
            .get_ticket(created["id"].as_str().expect("id"))
            .await
            .text()
            .await
            .expect("text");
        assert!(
            raw.contains(&format!(r#""price":{text}"#)),
            "{text} came back as {raw}"
        );
    }
}
