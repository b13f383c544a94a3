use ticketing_common::{
    domain::{TicketId, UserId},
    events::{OrderCancelled, Subject},
    testing::EventProbe,
};

use crate::helpers::{id_of, spawn_app};

#[tokio::test]
async fn the_replica_follows_ticket_versions_in_order_and_ignores_duplicates() {
    let app = spawn_app().await;
    let id = TicketId::new();

    app.publish_ticket_updated(id, 2, "v2", 300).await;
    app.publish_ticket_updated(id, 1, "v1", 200).await;
    app.publish_ticket_created(id, "v0", 100).await;
    app.publish_ticket_created(id, "v0 again", 999).await;
    app.publish_ticket_updated(id, 1, "v1 again", 999).await;

    let replica = app
        .replica_when(id, |r| r.is_some_and(|r| r.version.get() == 2))
        .await
        .expect("replica");
    assert_eq!(replica.title, "v2");
    assert_eq!(replica.price.cents(), 300);
    app.wait_until_handled(Subject::TicketCreated, 2).await;
    app.wait_until_handled(Subject::TicketUpdated, 3).await;
    let still = app
        .replicas
        .find(id)
        .await
        .expect("query")
        .expect("replica");
    assert_eq!(
        (still.version.get(), still.title.as_str()),
        (2, "v2"),
        "duplicates changed nothing"
    );
    assert_eq!(app.replica_count().await, 1);
}

#[tokio::test]
async fn expiry_cancels_a_created_order_releases_the_ticket_and_announces_it() {
    let app = spawn_app().await;
    let mut cancelled = EventProbe::<OrderCancelled>::new(&app.bus).await;
    let buyer = UserId::new();
    let ticket = app.ticket("Too slow", 100).await;
    let order = app.order(buyer, ticket).await;

    app.publish_expiration(id_of(&order)).await;
    app.publish_expiration(id_of(&order)).await;

    let expired = app
        .order_when(buyer, id_of(&order), |o| o["status"] == "cancelled")
        .await;
    assert_eq!(expired["version"], 1);
    assert_eq!(cancelled.next().await.data.id.to_string(), id_of(&order));
    // The second expiry changed nothing (a change and its event are one write): one event.
    app.wait_until_handled(Subject::ExpirationComplete, 2).await;
    assert_eq!(app.order_json(buyer, id_of(&order)).await["version"], 1);
    assert_eq!(app.published(Subject::OrderCancelled).await, 1);
    app.order(UserId::new(), ticket).await;
}

#[tokio::test]
async fn expiry_of_a_complete_order_changes_nothing() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app
        .order(buyer, app.ticket("Paid in time", 100).await)
        .await;
    app.publish_payment(id_of(&order)).await;
    let paid = app
        .order_when(buyer, id_of(&order), |o| o["status"] == "complete")
        .await;

    app.publish_expiration(id_of(&order)).await;

    app.wait_until_handled(Subject::ExpirationComplete, 1).await;
    assert_eq!(app.order_json(buyer, id_of(&order)).await, paid);
    // Unchanged, so no cancellation was written with it.
    assert_eq!(app.published(Subject::OrderCancelled).await, 0);
}

#[tokio::test]
async fn a_payment_completes_the_order() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, app.ticket("Pay me", 100).await).await;

    app.publish_payment(id_of(&order)).await;

    let paid = app
        .order_when(buyer, id_of(&order), |o| o["status"] == "complete")
        .await;
    assert_eq!(paid["version"], 1);
}

#[tokio::test]
async fn a_payment_for_a_cancelled_order_leaves_it_cancelled() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app
        .order(buyer, app.ticket("Paid too late", 100).await)
        .await;
    assert_eq!(app.cancel(Some(buyer), id_of(&order)).await.status(), 204);

    app.publish_payment(id_of(&order)).await;

    app.wait_until_handled(Subject::PaymentCreated, 1).await;
    let now = app.order_json(buyer, id_of(&order)).await;
    assert_eq!(
        (now["status"].as_str(), now["version"].as_i64()),
        (Some("cancelled"), Some(1))
    );
}
