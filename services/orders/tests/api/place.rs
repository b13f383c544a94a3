use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::{Value, json};
use ticketing_common::{
    domain::{OrderStatus, TicketId, UserId},
    events::OrderCreated,
    testing::EventProbe,
};

use crate::helpers::{errors_of, id_of, spawn_app, spawn_app_with_expiration};

#[tokio::test]
async fn placing_an_order_requires_a_session() {
    let app = spawn_app().await;
    let response = app
        .place_order(None, &json!({ "ticketId": TicketId::new() }))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not authorized" }])
    );
}

#[tokio::test]
async fn a_missing_or_malformed_ticket_id_is_a_400() {
    let app = spawn_app().await;
    let user = Some(UserId::new());
    for body in [
        json!({}),
        json!({ "ticketId": "" }),
        json!({ "ticketId": "abc" }),
        json!({ "ticketId": 42 }),
    ] {
        let response = app.place_order(user, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        // A number is no id either: the field's own message, not one about types.
        assert_eq!(
            errors_of(response).await,
            json!([{ "field": "ticketId", "message": "TicketId must be provided" }]),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_object_or_too_large_is_refused_in_the_error_shape() {
    let app = spawn_app().await;
    let user = UserId::new();
    let ticket = TicketId::new().to_string();
    let big = json!({ "ticketId": ticket, "pad": "x".repeat(2048) }).to_string();
    let cases = [
        (
            json!([ticket]).to_string(),
            400,
            "Request body must be a JSON object",
        ),
        ("42".to_owned(), 400, "Request body must be a JSON object"),
        ("null".to_owned(), 400, "Request body must be a JSON object"),
        (
            "{\"ticketId\":".to_owned(),
            400,
            "Malformed JSON in request body",
        ),
        (big, 413, "Request body must be at most 1 KiB"),
    ];
    for (body, status, message) in cases {
        let response = app
            .api
            .post(app.url("/api/orders"))
            .header("cookie", app.cookie(user))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": message }]),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_unknown_ticket_is_a_404() {
    let app = spawn_app().await;
    let response = app
        .place_order(Some(UserId::new()), &json!({ "ticketId": TicketId::new() }))
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn an_order_holds_the_ticket_until_it_expires_and_is_announced() {
    let app = spawn_app_with_expiration(Duration::from_secs(120)).await;
    let mut created = EventProbe::<OrderCreated>::new(&app.bus).await;
    let buyer = UserId::new();
    let ticket = app.ticket("Concert", 2550).await;
    let before = Utc::now();

    let order = app.order(buyer, ticket).await;

    assert_eq!(order["status"], "created");
    assert_eq!(order["userId"], buyer.to_string());
    assert_eq!(order["version"], 0);
    assert_eq!(
        order["ticket"],
        json!({ "id": ticket, "title": "Concert", "price": 25.5, "version": 0 })
    );
    let expires_at: DateTime<Utc> = order["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("a timestamp");
    let lead = (expires_at - before).num_seconds();
    assert!(
        (119..=121).contains(&lead),
        "expires {lead} s after creation"
    );
    let event = created.next().await;
    assert_eq!(event.data.id.to_string(), id_of(&order));
    assert_eq!(event.data.status, OrderStatus::Created);
    assert_eq!(event.data.ticket.id, ticket);
    assert_eq!(event.data.ticket.price.cents(), 2550);
    assert_eq!(event.data.expires_at, expires_at);
}

#[tokio::test]
async fn a_reserved_ticket_cannot_be_ordered() {
    let app = spawn_app().await;
    let ticket = app.ticket("Popular", 1000).await;
    app.order(UserId::new(), ticket).await;

    let response = app
        .place_order(Some(UserId::new()), &json!({ "ticketId": ticket }))
        .await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Ticket is already reserved" }])
    );
}

#[tokio::test]
async fn fifty_buyers_racing_on_two_instances_get_one_order() {
    let first = spawn_app().await;
    let second = first.another_instance().await;
    let ticket = first.ticket("Last seat", 9900).await;

    let attempts = (0..50).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        async move {
            app.place_order(Some(UserId::new()), &json!({ "ticketId": ticket }))
                .await
        }
    });
    let responses = join_all(attempts).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        49,
        "{statuses:?}"
    );
    for response in responses.into_iter().filter(|r| r.status() == 400) {
        let errors: Value = errors_of(response).await;
        assert_eq!(errors, json!([{ "message": "Ticket is already reserved" }]));
    }
}
