//! A writer can stop anywhere between its insert and the release of its events; the repair
//! pass finishes its work — or removes it, when it turns out to have been a stale write.

use mongodb::bson::{self, doc};
use ticketing_common::store::UpdateFailure;

use crate::helpers::{Item, counted_store, documents_of, raw};

/// A time long enough ago that the repair pass no longer waits for the writer.
fn long_ago() -> bson::DateTime {
    bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 3_600_000)
}

#[tokio::test]
async fn a_change_whose_writer_stopped_before_compacting_is_released() {
    let (store, _log, _db) = counted_store().await;
    let item = Item::new("v0");
    store
        .create(item.clone(), vec![item.event()])
        .await
        .expect("create");
    let base = raw(&store, &item, 0).await;
    store
        .update(item.id, |current| {
            Ok::<_, UpdateFailure>(current.next("v1"))
        })
        .await
        .expect("update");

    // Rewind to the moment after the insert of v1: still held, its base still there.
    let revisions = store.collection();
    revisions
        .update_one(
            doc! { "entity": item.id, "version": 1_i64 },
            doc! { "$set": { "held": true, "outbox_pending": false, "written_at": long_ago() } },
        )
        .await
        .expect("rewind v1");
    revisions.insert_one(base).await.expect("restore v0");
    assert_eq!(documents_of(&store, item.id).await, 2);

    assert_eq!(store.repair().await.expect("repair"), 1);
    let released = raw(&store, &item, 1).await;
    assert_eq!(released.get_bool("held"), Ok(false));
    assert_eq!(released.get_bool("outbox_pending"), Ok(true));
    assert_eq!(
        released.get_array("outbox").map(Vec::len),
        Ok(2),
        "v1 carries the events v0 had not published"
    );
    assert_eq!(documents_of(&store, item.id).await, 1, "v0 compacted");
    assert_eq!(store.repair().await.expect("repair"), 0, "nothing left");
}

#[tokio::test]
async fn a_stale_write_left_behind_is_removed_not_released() {
    let (store, _log, _db) = counted_store().await;
    let item = Item::new("v0");
    store
        .create(item.clone(), Vec::new())
        .await
        .expect("create");
    let v0_nonce = raw(&store, &item, 0)
        .await
        .get_i64("nonce")
        .expect("a nonce");
    for title in ["v1", "v2"] {
        store
            .update(item.id, |current| {
                Ok::<_, UpdateFailure>(current.next(title))
            })
            .await
            .expect("update");
    }
    // A writer that read v0 long ago stored "its" v1 after v1 was compacted, then stopped.
    let mut ghost = raw(&store, &item, 2).await;
    ghost.insert("_id", format!("{}:{:012}:{:016x}", item.id, 1, 42));
    ghost.insert("version", 1_i64);
    ghost.insert("nonce", 42_i64);
    ghost.insert("lineage", vec![42_i64, v0_nonce]);
    ghost.insert("held", true);
    ghost.insert("outbox", vec![bson::to_bson(&item.event()).expect("bson")]);
    ghost.insert("written_at", long_ago());
    store
        .collection()
        .insert_one(ghost)
        .await
        .expect("ghost stored");

    assert_eq!(store.repair().await.expect("repair"), 0, "nothing released");
    assert_eq!(documents_of(&store, item.id).await, 1, "the ghost is gone");
    assert_eq!(
        store
            .latest(item.id)
            .await
            .expect("read")
            .map(|item| item.title),
        Some("v2".to_owned())
    );
}

#[tokio::test]
async fn a_new_entitys_events_need_no_repair_to_reach_the_relay() {
    let (store, _log, _db) = counted_store().await;
    let item = Item::new("v0");
    store
        .create(item.clone(), vec![item.event()])
        .await
        .expect("create");
    // No relay runs here: as if the process stopped before its relay took the hand-over. The
    // relay's read after a restart finds the events at once.
    let stored = raw(&store, &item, 0).await;
    assert_eq!(stored.get_bool("held"), Ok(false), "nothing to prove");
    assert_eq!(stored.get_bool("outbox_pending"), Ok(true));
    assert_eq!(store.repair().await.expect("repair"), 0, "nothing held");
}
