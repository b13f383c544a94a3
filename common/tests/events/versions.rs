use std::time::Duration;

use mongodb::{
    Collection,
    bson::{Document, doc},
};
use ticketing_common::{
    domain::{Money, TicketId, UserId, Version},
    events::{
        Applied, Envelope, HandleError, Listener, TicketCreated, TicketUpdated, apply_in_order,
        insert_initial,
    },
    mongo, testing,
};
use tokio::sync::mpsc;

use crate::helpers::{bus, drain, quick_options, spawn_listener};

/// A minimal ticket replica, kept the way orders keeps its copy.
#[derive(Clone)]
struct Replica {
    tickets: Collection<Document>,
    applied: mpsc::UnboundedSender<Version>,
}

impl Listener for Replica {
    type Event = TicketUpdated;

    async fn handle(&self, event: Envelope<TicketUpdated>) -> Result<(), HandleError> {
        let data = event.data;
        let outcome = apply_in_order(
            &self.tickets,
            data.id,
            data.version,
            doc! { "title": &data.title, "price": data.price.cents() },
        )
        .await
        .map_err(|err| HandleError::Retry(err.into()))?;
        if outcome == Applied::Applied {
            let _ = self.applied.send(data.version);
        }
        outcome.into_handled()
    }
}

async fn tickets() -> Collection<Document> {
    let db = mongo::connect(&testing::mongo_config(), "events-tests")
        .await
        .expect("database");
    db.collection("tickets")
}

fn update(
    id: TicketId,
    user: UserId,
    version: i64,
    title: &str,
    cents: i64,
) -> Envelope<TicketUpdated> {
    Envelope::new(TicketUpdated {
        id,
        version: Version::new(version).expect("version"),
        title: title.into(),
        price: Money::from_cents(cents).expect("money"),
        user_id: user,
        order_id: None,
    })
}

#[tokio::test]
async fn versions_delivered_1_3_2_end_at_3_with_every_field_right() {
    let bus = bus().await;
    let tickets = tickets().await;
    let (id, user) = (TicketId::new(), UserId::new());
    let created = TicketCreated {
        id,
        version: Version::INITIAL,
        title: "v0".into(),
        price: Money::from_cents(100).expect("money"),
        user_id: user,
    };
    let initial = doc! { "_id": id, "version": created.version, "title": &created.title, "price": created.price.cents() };
    assert_eq!(
        insert_initial(&tickets, initial.clone())
            .await
            .expect("insert"),
        Applied::Applied
    );
    assert_eq!(
        insert_initial(&tickets, initial).await.expect("insert"),
        Applied::Duplicate
    );

    let (tx, mut applied) = mpsc::unbounded_channel();
    let (stop, _task) = spawn_listener(
        &bus,
        "orders",
        Replica {
            tickets: tickets.clone(),
            applied: tx,
        },
        quick_options(),
    );
    let publisher = bus.publisher();
    for (version, title, cents) in [(1, "v1", 101), (3, "v3", 303), (2, "v2", 202)] {
        publisher
            .publish(&update(id, user, version, title, cents))
            .await
            .expect("published");
    }

    let order: Vec<i64> = drain(&mut applied, Duration::from_secs(3))
        .await
        .into_iter()
        .map(Version::get)
        .collect();
    assert_eq!(order, vec![1, 2, 3], "applied strictly in version order");
    let replica = tickets
        .find_one(doc! { "_id": id })
        .await
        .expect("query")
        .expect("replica");
    assert_eq!(replica.get_i64("version").expect("version"), 3);
    assert_eq!(replica.get_str("title").expect("title"), "v3");
    assert_eq!(replica.get_i64("price").expect("price"), 303);
    stop.cancel();
}

#[tokio::test]
async fn the_version_check_tells_applied_duplicate_and_early_apart() {
    let tickets = tickets().await;
    let id = TicketId::new();
    insert_initial(
        &tickets,
        doc! { "_id": id, "version": Version::INITIAL, "title": "v0" },
    )
    .await
    .expect("insert");
    let v = |n| Version::new(n).expect("version");

    assert_eq!(
        apply_in_order(&tickets, id, v(2), doc! { "title": "v2" })
            .await
            .expect("cas"),
        Applied::Early
    );
    assert_eq!(
        apply_in_order(&tickets, id, v(1), doc! { "title": "v1" })
            .await
            .expect("cas"),
        Applied::Applied
    );
    assert_eq!(
        apply_in_order(&tickets, id, v(1), doc! { "title": "again" })
            .await
            .expect("cas"),
        Applied::Duplicate
    );
    assert_eq!(
        apply_in_order(&tickets, TicketId::new(), v(1), doc! {})
            .await
            .expect("cas"),
        Applied::Early
    );
    let replica = tickets
        .find_one(doc! { "_id": id })
        .await
        .expect("query")
        .expect("replica");
    assert_eq!(replica.get_str("title").expect("title"), "v1");
}
