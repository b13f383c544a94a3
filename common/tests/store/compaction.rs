//! History is compacted as it is written, and compaction never lets a stale writer take a
//! version back: its "next version" is undone and its events never leave.

use futures::future::join_all;
use ticketing_common::{
    events::{EventBus, OutboxRelay, Subject, TicketUpdated},
    store::{UpdateFailure, Updated, VersionedStore},
    telemetry,
    testing::{self, EventProbe},
};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Item, counted_store, describe, documents_of};

async fn bus() -> EventBus {
    telemetry::init_for_tests();
    EventBus::connect(&testing::nats_config())
        .await
        .expect("NATS is reachable")
}

/// Runs a relay over `store` until the returned token is cancelled.
fn spawn_relay(bus: &EventBus, store: &VersionedStore<Item>) -> CancellationToken {
    let stop = CancellationToken::new();
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![store.collection()],
        store.outbox_signal(),
    );
    tokio::spawn(relay.run(stop.clone()));
    stop
}

/// Saves `title` as the next version, retrying while other writers keep winning.
async fn edit(store: &VersionedStore<Item>, item: &Item, title: &str) -> Item {
    loop {
        match store
            .update(item.id, |current| {
                Ok::<_, UpdateFailure>(current.next(title))
            })
            .await
        {
            Ok(updated) => return updated.into_inner(),
            Err(UpdateFailure::Contended(_)) => continue,
            Err(err) => panic!("edit failed: {err}"),
        }
    }
}

#[tokio::test]
async fn a_thousand_edits_leave_one_document_and_every_event_once_in_order() {
    let bus = bus().await;
    let (store, _log, _db) = counted_store().await;
    let mut probe = EventProbe::<TicketUpdated>::new(&bus).await;
    let relay = spawn_relay(&bus, &store);
    let item = Item::new("v0");
    store
        .create(item.clone(), vec![item.event()])
        .await
        .expect("create");

    for n in 1..=1_000 {
        edit(&store, &item, &format!("v{n}")).await;
        if n % 100 == 0 {
            assert_eq!(documents_of(&store, item.id).await, 1, "after {n} edits");
        }
    }
    assert_eq!(documents_of(&store, item.id).await, 1);
    let latest = store.latest(item.id).await.expect("read").expect("exists");
    assert_eq!((latest.version.get(), latest.count), (1_000, 1_000));

    for n in 0..=1_000 {
        let event = probe.next().await;
        assert_eq!(event.data.version.get(), n, "published once each, in order");
    }
    testing::wait_until_relayed(&store.collection()).await;
    assert_eq!(
        testing::published_count(&bus, Subject::TicketUpdated).await,
        1_001,
        "nothing more is published"
    );
    relay.cancel();
}

/// `writers` concurrent writers make `edits` changes each to one item; every change must get a
/// version of its own, none may be lost, and one document must remain.
async fn concurrent_writers(writers: usize, edits: usize) {
    let (store, _log, _db) = counted_store().await;
    let item = Item::new("v0");
    store
        .create(item.clone(), Vec::new())
        .await
        .expect("create");

    let tasks = (0..writers).map(|writer| {
        let (store, item) = (store.clone(), item.clone());
        async move {
            let mut versions = Vec::new();
            for n in 0..edits {
                versions.push(
                    edit(&store, &item, &format!("w{writer}-{n}"))
                        .await
                        .version
                        .get(),
                );
            }
            versions
        }
    });
    let mut versions: Vec<i64> = join_all(tasks).await.into_iter().flatten().collect();
    versions.sort_unstable();
    let total = i64::try_from(writers * edits).expect("a small count");
    assert_eq!(
        versions,
        (1..=total).collect::<Vec<_>>(),
        "each change got its own version"
    );
    let latest = store.latest(item.id).await.expect("read").expect("exists");
    assert_eq!(latest.count, total, "no change lost");
    assert_eq!(
        documents_of(&store, item.id).await,
        1,
        "{:#?}",
        describe(&store, item.id).await
    );
}

#[tokio::test]
async fn concurrent_writers_lose_no_change_and_leave_one_document() {
    concurrent_writers(4, 25).await;
}

/// Eight writers on one item. Under load this used to leave a second document or give one
/// version to two writers on FerretDB, which runs a filtered delete or update as a read and then
/// a write by `_id` alone: with `_id`s reused across compactions, such a write could reach a newer
/// revision of the same version. Revision `_id`s are never reused now (see the store's docs).
#[tokio::test]
async fn eight_writers_under_load() {
    concurrent_writers(8, 25).await;
}

#[tokio::test]
async fn a_stale_writer_cannot_take_back_a_compacted_version() {
    let bus = bus().await;
    let (store, _log, _db) = counted_store().await;
    let mut probe = EventProbe::<TicketUpdated>::new(&bus).await;
    let item = Item::new("v0");
    store
        .create(item.clone(), vec![item.event()])
        .await
        .expect("create");
    for n in 1..=5 {
        edit(&store, &item, &format!("v{n}")).await;
    }

    // A slow writer reads version 5 …
    let stale = store.current(item.id).await.expect("read").expect("exists");
    assert_eq!(stale.state().version.get(), 5);
    // … meanwhile 6 and 7 are written, and 5 and 6 compacted away: the key of 6 is free.
    edit(&store, &item, "v6").await;
    edit(&store, &item, "v7").await;
    assert_eq!(documents_of(&store, item.id).await, 1);

    // The slow writer now stores "its" version 6. The insert succeeds; the store must notice
    // the version was taken before, undo it, and decide again on the live state.
    let mut seen = Vec::new();
    let outcome = store
        .update_from(stale, |current| {
            seen.push(current.version.get());
            Ok::<_, UpdateFailure>(current.next("slow writer"))
        })
        .await
        .expect("update");
    assert_eq!(
        seen,
        [5, 7],
        "the stale attempt was undone and decided again on 7"
    );
    let Updated::Saved(saved) = outcome else {
        panic!("the change is saved on the live state");
    };
    assert_eq!((saved.version.get(), saved.count), (8, 8));
    assert_eq!(documents_of(&store, item.id).await, 1);

    let relay = spawn_relay(&bus, &store);
    let mut published = Vec::new();
    for _ in 0..=8 {
        let event = probe.next().await;
        published.push((event.data.version.get(), event.data.title));
    }
    testing::wait_until_relayed(&store.collection()).await;
    assert_eq!(
        testing::published_count(&bus, Subject::TicketUpdated).await,
        9,
        "nothing more is published"
    );
    relay.cancel();
    let expected: Vec<(i64, String)> = (0..=7)
        .map(|n| (n, format!("v{n}")))
        .chain([(8, "slow writer".to_owned())])
        .collect();
    assert_eq!(published, expected, "no ghost version 6 was published");
}
