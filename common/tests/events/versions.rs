use futures::future::join_all;
use mongodb::{Database, bson::doc};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, TicketId, UserId, Version},
    events::{Envelope, HandleError, Listener, OutboxSignal, Subject, TicketUpdated},
    mongo,
    store::{Applied, Change, Updated, Versioned, VersionedStore},
    testing,
};
use tokio::sync::mpsc;

use crate::helpers::{bus, quick_options, received, spawn_listener};
use ticketing_common::testing::wait_until_caught_up;

/// A minimal ticket replica, kept the way orders keeps its copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Replica {
    #[serde(rename = "_id")]
    id: TicketId,
    version: Version,
    title: String,
    price_cents: i64,
}

impl Versioned for Replica {
    type Id = TicketId;

    fn id(&self) -> TicketId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }
}

fn replica(id: TicketId, version: i64, title: &str, price_cents: i64) -> Replica {
    Replica {
        id,
        version: Version::new(version).expect("version"),
        title: title.into(),
        price_cents,
    }
}

async fn store() -> (VersionedStore<Replica>, Database) {
    let db = mongo::connect(&testing::mongo_config(), "events-tests")
        .await
        .expect("database");
    let store = VersionedStore::open(&db, "replicas", OutboxSignal::default())
        .await
        .expect("store");
    (store, db)
}

async fn shown(store: &VersionedStore<Replica>, id: TicketId) -> Replica {
    store.latest(id).await.expect("query").expect("stored")
}

struct ReplicaListener {
    store: VersionedStore<Replica>,
    applied: mpsc::UnboundedSender<Version>,
}

impl Listener for ReplicaListener {
    type Event = TicketUpdated;

    async fn handle(&self, event: Envelope<TicketUpdated>) -> Result<(), HandleError> {
        let data = event.data;
        let outcome = self
            .store
            .apply_in_order(Replica {
                id: data.id,
                version: data.version,
                title: data.title,
                price_cents: data.price.cents(),
            })
            .await?;
        if outcome == Applied::Applied {
            let _ = self.applied.send(data.version);
        }
        outcome.into_handled()
    }
}

#[tokio::test]
async fn versions_delivered_1_3_2_end_at_3_with_every_field_right() {
    let bus = bus().await;
    let (store, _db) = store().await;
    let (id, user) = (TicketId::new(), UserId::new());
    assert_eq!(
        store
            .apply_in_order(replica(id, 0, "v0", 100))
            .await
            .expect("apply"),
        Applied::Applied
    );

    let (tx, mut applied) = mpsc::unbounded_channel();
    let listener = ReplicaListener {
        store: store.clone(),
        applied: tx,
    };
    let (stop, _task) = spawn_listener(&bus, "orders", listener, quick_options());
    for (version, title, cents) in [(1, "v1", 101), (3, "v3", 303), (2, "v2", 202)] {
        let event = Envelope::new(TicketUpdated {
            id,
            version: Version::new(version).expect("version"),
            title: title.into(),
            price: Money::from_cents(cents).expect("money"),
            user_id: user,
            order_id: None,
        });
        bus.publisher().publish(&event).await.expect("published");
    }

    wait_until_caught_up(&bus, "orders", Subject::TicketUpdated).await;
    let order: Vec<i64> = received(&mut applied)
        .into_iter()
        .map(Version::get)
        .collect();
    assert_eq!(order, vec![1, 2, 3], "applied strictly in version order");
    assert_eq!(shown(&store, id).await, replica(id, 3, "v3", 303));
    assert_eq!(
        store.latest(id).await.expect("latest"),
        Some(replica(id, 3, "v3", 303))
    );
    stop.cancel();
}

#[tokio::test]
async fn the_version_check_tells_applied_duplicate_and_early_apart() {
    let (store, _db) = store().await;
    let id = TicketId::new();
    let apply = |version, title: &'static str| store.apply_in_order(replica(id, version, title, 1));

    assert_eq!(
        apply(1, "v1 before v0").await.expect("apply"),
        Applied::Early
    );
    assert_eq!(apply(0, "v0").await.expect("apply"), Applied::Applied);
    assert_eq!(
        apply(0, "v0 again").await.expect("apply"),
        Applied::Duplicate
    );
    assert_eq!(apply(2, "v2").await.expect("apply"), Applied::Early);
    assert_eq!(apply(1, "v1").await.expect("apply"), Applied::Applied);
    assert_eq!(
        apply(1, "v1 again").await.expect("apply"),
        Applied::Duplicate
    );
    // v0 was compacted away when v1 came: a late copy of it is stored again, but never read
    // (v1 is newer), and the next version deletes it.
    let documents = || async {
        store
            .collection()
            .count_documents(doc! { "entity": id })
            .await
            .expect("count")
    };
    apply(0, "v0, late").await.expect("apply");
    assert_eq!(shown(&store, id).await.title, "v1");
    assert_eq!(apply(2, "v2").await.expect("apply"), Applied::Applied);
    assert_eq!(shown(&store, id).await.title, "v2");
    assert_eq!(documents().await, 1, "the late v0 went with v1");
}

#[tokio::test]
async fn one_version_delivered_concurrently_is_applied_once() {
    let (store, _db) = store().await;
    for _ in 0..5 {
        let id = TicketId::new();
        let attempts =
            (0..20).map(|i| store.apply_in_order(replica(id, 0, &format!("writer {i}"), 1)));
        let outcomes: Vec<Applied> = join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.expect("apply"))
            .collect();
        let applied = outcomes.iter().filter(|o| **o == Applied::Applied).count();
        assert_eq!(applied, 1, "{outcomes:?}");
    }
}

#[tokio::test]
async fn concurrent_updates_are_serialized_version_by_version() {
    let (store, _db) = store().await;
    let id = TicketId::new();
    assert!(
        store
            .create(replica(id, 0, "counter", 0), Vec::new())
            .await
            .expect("create")
    );

    let increments = (0..8).map(|_| {
        store.update(id, |mut state: Replica| {
            state.version = state.version.next();
            state.price_cents += 1;
            Ok::<_, ticketing_common::store::UpdateFailure>(Change::Save {
                state,
                events: Vec::new(),
            })
        })
    });
    let results = join_all(increments).await;

    let mut versions: Vec<i64> = results
        .into_iter()
        .map(|r| match r.expect("each update eventually wins") {
            Updated::Saved(state) => state.version.get(),
            Updated::Unchanged(_) => panic!("every increment saves"),
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (1..=8).collect::<Vec<_>>(),
        "each writer got its own version"
    );
    assert_eq!(
        shown(&store, id).await,
        replica(id, 8, "counter", 8),
        "no increment lost"
    );
}

#[tokio::test]
async fn opening_stores_again_after_a_restart_is_fine() {
    let (_, db) = store().await;
    for _ in 0..2 {
        VersionedStore::<Replica>::open(&db, "replicas", OutboxSignal::default())
            .await
            .expect("reopen");
        VersionedStore::<Replica>::open(&db, "others", OutboxSignal::default())
            .await
            .expect("another kind");
    }
}
