//! Cancellations are remembered (a late `order.created` must not reserve) only as long as the
//! event stream keeps events: after that no such event can come, and the list stays small.

use mongodb::bson::{self, doc};
use ticketing_common::{
    domain::{Money, OrderId, UserId},
    events::{EventBus, OutboxSignal},
    store::Applied,
    testing,
};
use tickets::{domain::Title, store::Tickets};

#[tokio::test]
async fn cancellations_older_than_the_stream_retention_are_forgotten() {
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
    let recent = OrderId::new();
    tickets.release(ticket.id, recent).await.expect("release");

    let retention = chrono::Duration::from_std(EventBus::RETENTION).expect("a duration");
    let long_ago = chrono::Utc::now() - retention - chrono::Duration::hours(1);
    let old = OrderId::new();
    db.collection("cancelled_orders")
        .insert_one(doc! { "_id": old, "remembered_at": bson::DateTime::from_chrono(long_ago) })
        .await
        .expect("an old cancellation");

    assert_eq!(tickets.forget_old_cancellations().await.expect("forget"), 1);
    assert_eq!(
        tickets.reserve(ticket.id, recent).await.expect("reserve"),
        Applied::Applied,
        "the reservation is stored as the event says …"
    );
    let ticket = tickets
        .find(ticket.id)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(
        ticket.order_id, None,
        "… and undone at once: the recent cancellation is still remembered"
    );
}
