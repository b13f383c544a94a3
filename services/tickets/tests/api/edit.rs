use std::collections::BTreeSet;

use futures::future::join_all;
use serde_json::{Value, json};
use ticketing_common::{
    domain::{OrderId, UserId},
    events::{Subject, TicketUpdated},
    testing::EventProbe,
};

use crate::helpers::{errors_of, spawn_app};

fn id_of(ticket: &Value) -> &str {
    ticket["id"].as_str().expect("id")
}

#[tokio::test]
async fn the_owner_edits_and_the_change_is_announced_with_the_next_version() {
    let app = spawn_app().await;
    let mut updates = EventProbe::<TicketUpdated>::new(&app.bus).await;
    let owner = UserId::new();
    let ticket = app.ticket_of(owner, "Before", 10.0).await;

    let response = app
        .edit_ticket(
            Some(owner),
            id_of(&ticket),
            &json!({ "title": "After", "price": 12.34 }),
        )
        .await;

    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.expect("json");
    assert_eq!(edited["title"], "After");
    assert_eq!(edited["price"], json!(12.34));
    assert_eq!(edited["version"], 1);
    assert_eq!(app.ticket_json(id_of(&ticket)).await, edited);
    let event = updates.next().await;
    assert_eq!(event.data.version.get(), 1);
    assert_eq!(event.data.title, "After");
    assert_eq!(event.data.price.cents(), 1234);
    assert_eq!(event.data.order_id, None);
}

#[tokio::test]
async fn editing_is_refused_in_the_contract_order() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let ticket = app.ticket_of(owner, "Mine", 10.0).await;
    let good = json!({ "title": "New", "price": 11 });
    let unknown = OrderId::new().to_string();

    // session first
    let response = app
        .edit_ticket(None, id_of(&ticket), &json!({ "title": "" }))
        .await;
    assert_eq!(response.status(), 401);
    // then the body, even for an unknown ticket
    let response = app
        .edit_ticket(Some(owner), &unknown, &json!({ "title": "", "price": 1 }))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "field": "title", "message": "Title is required" }])
    );
    // then existence
    assert_eq!(
        app.edit_ticket(Some(owner), &unknown, &good).await.status(),
        404
    );
    assert_eq!(
        app.edit_ticket(Some(owner), "nonsense", &good)
            .await
            .status(),
        404
    );
    // then ownership
    let response = app
        .edit_ticket(Some(UserId::new()), id_of(&ticket), &good)
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not authorized" }])
    );

    assert_eq!(
        app.ticket_json(id_of(&ticket)).await,
        ticket,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_reserved_ticket_cannot_be_edited() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let ticket = app.ticket_of(owner, "Wanted", 10.0).await;
    app.publish_order_created(OrderId::new(), &ticket).await;
    app.ticket_when(id_of(&ticket), |t| t.get("orderId").is_some())
        .await;

    let response = app
        .edit_ticket(
            Some(owner),
            id_of(&ticket),
            &json!({ "title": "Cheaper", "price": 1 }),
        )
        .await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Cannot edit a reserved ticket" }])
    );
}

#[tokio::test]
async fn concurrent_edits_never_both_win_silently() {
    let app = spawn_app().await;
    let mut updates = EventProbe::<TicketUpdated>::new(&app.bus).await;
    let owner = UserId::new();
    let ticket = app.ticket_of(owner, "Contended", 10.0).await;

    let edits = (1..=10).map(|i| {
        let body = json!({ "title": format!("edit {i}"), "price": i });
        let app = &app;
        let id = id_of(&ticket).to_owned();
        async move { app.edit_ticket(Some(owner), &id, &body).await }
    });
    let responses = join_all(edits).await;

    let mut versions = BTreeSet::new();
    for response in responses {
        match response.status().as_u16() {
            200 => {
                let body: Value = response.json().await.expect("json");
                versions.insert(body["version"].as_i64().expect("version"));
            }
            409 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    let last = app.ticket_json(id_of(&ticket)).await;
    assert_eq!(
        last["version"].as_i64(),
        versions.last().copied(),
        "the last winner is what is stored"
    );
    assert_eq!(
        versions,
        (1..=versions.len() as i64).collect(),
        "each winner got its own version"
    );
    let mut announced = BTreeSet::new();
    for _ in 0..versions.len() {
        let event = updates.next().await;
        assert!(
            announced.insert(event.data.version.get()),
            "version announced twice"
        );
    }
    assert_eq!(announced, versions, "every saved edit was announced");
    // Each saved edit wrote one event with it, and all of them are out: none can follow.
    assert_eq!(
        app.published(Subject::TicketUpdated).await,
        versions.len() as u64,
        "every saved edit was announced once"
    );
}
