//! What the tickets service knows of orders (reserved for, or cancelled) ends an order's
//! reservation right whichever of its events comes first and however often each comes, and is
//! kept only as long as the event stream keeps events: after that no such event can come.

use mongodb::bson::{self, doc};
use ticketing_common::{
    domain::{Money, OrderId, TicketId, UserId},
    events::{EventBus, OutboxSignal},
    store::Applied,
    testing,
};
use tickets::{domain::Title, store::Tickets};

async fn tickets_with_one() -> (Tickets, TicketId, mongodb::Database) {
    ticketing_common::telemetry::init_for_tests();
    let (db, _log) = testing::counted_database(&testing::mongo_config()).await;
    let tickets = Tickets::open(&db, OutboxSignal::default())
        .await
        .expect("store opens");
    let ticket = tickets
        .create(
            Title::parse("Concert").expect("title"),
            Money::from_cents(100).expect("price"),
            UserId::new(),
        )
        .await
        .expect("create");
    (tickets, ticket.id, db)
}

async fn holder(tickets: &Tickets, id: TicketId) -> Option<OrderId> {
    tickets
        .find(id)
        .await
        .expect("find")
        .expect("exists")
        .order_id
}

#[tokio::test]
async fn an_order_created_again_after_its_cancellation_leaves_the_ticket_free() {
    let (tickets, ticket, _db) = tickets_with_one().await;
    let order = OrderId::new();
    assert_eq!(
        tickets.reserve(ticket, order).await.expect("reserve"),
        Applied::Applied
    );
    assert_eq!(holder(&tickets, ticket).await, Some(order));
    assert_eq!(
        tickets.release(ticket, order).await.expect("release"),
        Applied::Applied
    );
    assert_eq!(holder(&tickets, ticket).await, None);

    tickets
        .reserve(ticket, order)
        .await
        .expect("the creation delivered again");
    assert_eq!(
        holder(&tickets, ticket).await,
        None,
        "the reservation claimed the order first; its cancellation was remembered all the same"
    );
}

#[tokio::test]
async fn a_cancellation_remembered_before_orders_were_claimed_still_counts() {
    let (tickets, ticket, db) = tickets_with_one().await;
    let order = OrderId::new();
    // As the release before this one wrote it: no `cancelled` field.
    db.collection("cancelled_orders")
        .insert_one(doc! { "_id": order, "remembered_at": bson::DateTime::now() })
        .await
        .expect("a cancellation");
    tickets.reserve(ticket, order).await.expect("reserve");
    assert_eq!(holder(&tickets, ticket).await, None);
}

#[tokio::test]
async fn orders_seen_longer_ago_than_the_stream_retention_are_forgotten() {
    let (tickets, ticket, db) = tickets_with_one().await;
    let recent = OrderId::new();
    tickets.release(ticket, recent).await.expect("release");

    let retention = chrono::Duration::from_std(EventBus::RETENTION).expect("a duration");
    let long_ago = chrono::Utc::now() - retention - chrono::Duration::hours(1);
    for (old, cancelled) in [(OrderId::new(), true), (OrderId::new(), false)] {
        db.collection("cancelled_orders")
            .insert_one(doc! {
                "_id": old,
                "cancelled": cancelled,
                "remembered_at": bson::DateTime::from_chrono(long_ago),
            })
            .await
            .expect("an old order");
    }

    assert_eq!(tickets.forget_old_orders().await.expect("forget"), 2);
    assert_eq!(
        tickets.reserve(ticket, recent).await.expect("reserve"),
        Applied::Applied,
        "the reservation is stored as the event says …"
    );
    assert_eq!(
        holder(&tickets, ticket).await,
        None,
        "… and undone at once: the recent cancellation is still remembered"
    );
}
