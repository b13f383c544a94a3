//! Each store operation's round trips, counted from the driver's command events: the budget
//! every request and listener builds on (issue 13: create ≤ 2, edit ≤ 4, replica apply ≤ 3).

use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{TicketId, Version},
    events::OutboxSignal,
    metrics::{self, catalogue},
    store::{Applied, Change, UpdateFailure, Updated, Versioned, VersionedStore},
};

use crate::helpers::{Item, counted_store, documents_of};

#[tokio::test]
async fn creating_is_one_insert() {
    let (store, log, _db) = counted_store().await;
    let item = Item::new("new");
    assert!(
        store
            .create(item.clone(), vec![item.event()])
            .await
            .expect("create")
    );
    assert_eq!(log.take(), ["insert"]);
}

#[tokio::test]
async fn writers_of_the_same_moment_share_one_insert_and_each_learns_its_fate() {
    metrics::install();
    let (store, log, _db) = counted_store().await;
    let items: Vec<Item> = (0..32).map(|i| Item::new(&format!("item {i}"))).collect();
    let twice = items[7].clone();
    let creates = items
        .iter()
        .chain(std::iter::once(&twice))
        .map(|item| store.create(item.clone(), vec![item.event()]));
    let created = futures::future::join_all(creates).await;

    let created: Vec<bool> = created.into_iter().map(|c| c.expect("create")).collect();
    assert_eq!(
        created.iter().filter(|stored| **stored).count(),
        32,
        "every item stored once: the second create of item 7 is refused, {created:?}"
    );
    assert!(created[..32].iter().all(|stored| *stored) && !created[32]);
    assert_eq!(
        log.take(),
        ["insert"],
        "on one thread all 33 wait before the first is sent: one command carries them"
    );
    for item in &items {
        assert_eq!(documents_of(&store, item.id).await, 1);
    }
    let collection = store.collection().namespace().to_string();
    let labels = [("collection", collection.as_str())];
    assert_eq!(
        metrics::sample(catalogue::INSERT_COMMANDS, &labels),
        Some(1.0)
    );
    assert_eq!(
        metrics::sample(catalogue::INSERTED_DOCUMENTS, &labels),
        Some(33.0),
        "the figures tell the operator how many writers shared a command"
    );
}

#[tokio::test]
async fn a_change_is_read_insert_compact() {
    let (store, log, _db) = counted_store().await;
    let item = Item::new("v0");
    store
        .create(item.clone(), vec![item.event()])
        .await
        .expect("create");
    log.take();

    let updated = store
        .update(item.id, |current| {
            Ok::<_, UpdateFailure>(current.next("v1"))
        })
        .await
        .expect("update");
    assert!(matches!(updated, Updated::Saved(ref state) if state.title == "v1"));
    assert_eq!(
        log.take(),
        ["find", "insert", "delete"],
        "its events go to the relay in memory: no release of its own"
    );

    let read = store.current(item.id).await.expect("read").expect("exists");
    log.take();
    store
        .update_from(read, |current| Ok::<_, UpdateFailure>(current.next("v2")))
        .await
        .expect("update from a read state");
    assert_eq!(
        log.take(),
        ["insert", "delete"],
        "a caller that has read the entity saves the read"
    );
}

#[tokio::test]
async fn reading_and_deciding_nothing_is_one_find() {
    let (store, log, _db) = counted_store().await;
    let item = Item::new("v0");
    store
        .create(item.clone(), Vec::new())
        .await
        .expect("create");
    log.take();
    let outcome = store
        .update(item.id, |_| Ok::<_, UpdateFailure>(Change::Unchanged))
        .await
        .expect("update");
    assert!(matches!(outcome, Updated::Unchanged(_)));
    assert_eq!(log.take(), ["find"]);
}

#[tokio::test]
async fn a_replica_version_is_insert_and_compact_after_one_applied_here_read_first_otherwise() {
    let (store, log, db) = counted_store().await;
    let item = Item::new("v0");
    let version = |n: i64| Item {
        version: Version::new(n).expect("version"),
        title: format!("v{n}"),
        ..item.clone()
    };
    assert_eq!(
        store.apply_in_order(version(0)).await.expect("apply"),
        Applied::Applied
    );
    assert_eq!(
        log.take(),
        ["insert"],
        "a first version known only from an event is one insert"
    );
    assert_eq!(
        store.apply_in_order(version(0)).await.expect("apply"),
        Applied::Duplicate
    );
    assert!(
        log.take().is_empty(),
        "a duplicate of a version this process applied costs nothing"
    );
    assert_eq!(
        store.apply_in_order(version(1)).await.expect("apply"),
        Applied::Applied
    );
    assert_eq!(
        log.take(),
        ["insert", "delete"],
        "the version after one this process applied: no read"
    );

    // Another instance (or this one, restarted) has applied nothing: it reads first.
    let open_other = async || {
        let other = VersionedStore::<Item>::open(&db, "items", OutboxSignal::default())
            .await
            .expect("store opens");
        log.take();
        other
    };
    let other = open_other().await;
    assert_eq!(
        other.apply_in_order(version(2)).await.expect("apply"),
        Applied::Applied
    );
    assert_eq!(log.take(), ["find", "insert", "delete"]);
    assert_eq!(
        other.apply_in_order(version(3)).await.expect("apply"),
        Applied::Applied
    );
    assert_eq!(log.take(), ["insert", "delete"], "now it remembers");
    assert_eq!(
        open_other()
            .await
            .apply_in_order(version(1))
            .await
            .expect("apply"),
        Applied::Duplicate
    );
    assert_eq!(log.take(), ["find"], "a duplicate is one read");
    assert_eq!(documents_of(&other, item.id).await, 1);
}

/// An entity whose every change is its last, like an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OneShot {
    #[serde(rename = "_id")]
    id: TicketId,
    version: Version,
    done: bool,
}

impl Versioned for OneShot {
    type Id = TicketId;

    fn id(&self) -> TicketId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }

    fn is_final(&self) -> bool {
        self.done
    }
}

#[tokio::test]
async fn a_final_change_is_read_insert_compact() {
    let (_, log, db) = counted_store().await;
    let store = VersionedStore::<OneShot>::open(&db, "oneshots", OutboxSignal::default())
        .await
        .expect("store");
    let id = TicketId::new();
    store
        .create(
            OneShot {
                id,
                version: Version::INITIAL,
                done: false,
            },
            Vec::new(),
        )
        .await
        .expect("create");
    log.take();
    store
        .update(id, |current| {
            Ok::<_, UpdateFailure>(Change::Save {
                state: OneShot {
                    version: current.version.next(),
                    done: true,
                    ..current
                },
                events: vec![crate::helpers::Item::new("final").event()],
            })
        })
        .await
        .expect("update");
    assert_eq!(
        log.take(),
        ["find", "insert", "delete"],
        "a final version is never compacted, so it needs no proof"
    );
}
