use serde_json::Value;
use ticketing_common::{
    domain::{OrderId, UserId},
    events::{Subject, TicketUpdated},
    testing::EventProbe,
};

use crate::helpers::spawn_app;

fn id_of(ticket: &Value) -> &str {
    ticket["id"].as_str().expect("id")
}

#[tokio::test]
async fn order_created_reserves_the_ticket_and_announces_it() {
    let app = spawn_app().await;
    let mut updates = EventProbe::<TicketUpdated>::new(&app.bus).await;
    let ticket = app.ticket_of(UserId::new(), "Reserve me", 30.0).await;
    let order = OrderId::new();

    app.publish_order_created(order, &ticket).await;

    let reserved = app
        .ticket_when(id_of(&ticket), |t| t.get("orderId").is_some())
        .await;
    assert_eq!(reserved["orderId"], order.to_string());
    assert_eq!(reserved["version"], 1);
    let event = updates.next().await;
    assert_eq!(event.data.order_id, Some(order));
    assert_eq!(event.data.version.get(), 1);
}

#[tokio::test]
async fn a_duplicate_order_created_changes_nothing_twice() {
    let app = spawn_app().await;
    let mut updates = EventProbe::<TicketUpdated>::new(&app.bus).await;
    let ticket = app.ticket_of(UserId::new(), "Once", 30.0).await;
    let order = OrderId::new();

    app.publish_order_created(order, &ticket).await;
    app.publish_order_created(order, &ticket).await;

    updates.next().await;
    // The duplicate changed nothing (a change and its event are one write): one event.
    app.wait_until_handled(Subject::OrderCreated, 2).await;
    assert_eq!(app.ticket_json(id_of(&ticket)).await["version"], 1);
    assert_eq!(app.published(Subject::TicketUpdated).await, 1);
}

#[tokio::test]
async fn order_cancelled_releases_the_ticket_and_announces_it() {
    let app = spawn_app().await;
    let mut updates = EventProbe::<TicketUpdated>::new(&app.bus).await;
    let ticket = app.ticket_of(UserId::new(), "Release me", 30.0).await;
    let order = OrderId::new();
    app.publish_order_created(order, &ticket).await;
    app.ticket_when(id_of(&ticket), |t| t.get("orderId").is_some())
        .await;

    app.publish_order_cancelled(order, &ticket).await;
    app.publish_order_cancelled(order, &ticket).await;

    let released = app
        .ticket_when(id_of(&ticket), |t| t.get("orderId").is_none())
        .await;
    assert_eq!(released["version"], 2);
    let versions: Vec<i64> = vec![
        updates.next().await.data.version.get(),
        updates.next().await.data.version.get(),
    ];
    assert_eq!(versions, vec![1, 2]);
    // The duplicate cancellation changed nothing: two changes, two events.
    app.wait_until_handled(Subject::OrderCancelled, 2).await;
    assert_eq!(app.ticket_json(id_of(&ticket)).await["version"], 2);
    assert_eq!(app.published(Subject::TicketUpdated).await, 2);
}

#[tokio::test]
async fn a_cancellation_that_overtakes_its_creation_leaves_the_ticket_free() {
    let app = spawn_app().await;
    let ticket = app.ticket_of(UserId::new(), "Overtaken", 30.0).await;
    let order = OrderId::new();

    app.publish_order_cancelled(order, &ticket).await;
    app.publish_order_created(order, &ticket).await;
    let later = OrderId::new();
    app.publish_order_created(later, &ticket).await;

    // Whichever order the two consumers take them in, the live order ends up with the ticket.
    app.ticket_when(id_of(&ticket), |t| t["orderId"] == later.to_string())
        .await;
}

#[tokio::test]
async fn a_second_order_waits_until_the_first_releases_the_ticket() {
    let app = spawn_app().await;
    let ticket = app.ticket_of(UserId::new(), "Sequential", 30.0).await;
    let (first, second) = (OrderId::new(), OrderId::new());
    app.publish_order_created(first, &ticket).await;
    app.ticket_when(id_of(&ticket), |t| t["orderId"] == first.to_string())
        .await;

    // The second order's creation arrives before the first's cancellation.
    app.publish_order_created(second, &ticket).await;
    // Delivered again: its first delivery was handled and deferred.
    app.wait_until_delivered(Subject::OrderCreated, 3).await;
    assert_eq!(
        app.ticket_json(id_of(&ticket)).await["orderId"],
        first.to_string()
    );
    app.publish_order_cancelled(first, &ticket).await;

    let reserved = app
        .ticket_when(id_of(&ticket), |t| t["orderId"] == second.to_string())
        .await;
    assert_eq!(reserved["version"], 3, "reserve, release, reserve");
}
