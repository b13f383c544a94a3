//! What an upgraded database holds: revisions written by the release before revision ids carried
//! their nonce (`<entity>:<version>`) are still compacted, so it converges to one document per
//! entity; revisions stored before entities had shelves get theirs when the store opens.

use mongodb::{
    Database,
    bson::{Document, doc},
};
use ticketing_common::{
    events::OutboxSignal,
    store::{UpdateFailure, VersionedStore},
};

use crate::helpers::{Item, SHELF, UNLISTED, counted_store, documents_of, raw};

/// Moves a stored revision to the `_id` the release before gave it.
async fn as_legacy(store: &VersionedStore<Item>, revision: Document) {
    let key = revision.get_str("_id").expect("a string _id");
    store
        .collection()
        .delete_one(doc! { "_id": key })
        .await
        .expect("delete the current form");
    store_as_legacy(store, revision).await;
}

/// Stores `revision` under the `_id` the release before gave it (`<entity>:<version>`).
async fn store_as_legacy(store: &VersionedStore<Item>, mut revision: Document) {
    let key = revision.get_str("_id").expect("a string _id");
    let legacy = key
        .rsplit_once(':')
        .expect("<entity>:<version>:<nonce>")
        .0
        .to_owned();
    revision.insert("_id", legacy);
    store
        .collection()
        .insert_one(revision)
        .await
        .expect("store the legacy form");
}

/// The store opened again on `db` as a new release opens an older database: the one-time
/// upgrade not yet recorded.
async fn opened_as_upgraded(db: &Database) -> VersionedStore<Item> {
    db.collection::<Document>("store_migrations")
        .delete_many(doc! {})
        .await
        .expect("forget the upgrade");
    VersionedStore::open(db, "items", OutboxSignal::default())
        .await
        .expect("store opens")
}

async fn update(store: &VersionedStore<Item>, item: &Item, title: &'static str) {
    store
        .update(item.id, |current| {
            Ok::<_, UpdateFailure>(current.next(title))
        })
        .await
        .expect("update");
}

#[tokio::test]
async fn a_legacy_revision_is_compacted_by_the_next_change() {
    let (store, _log, _db) = counted_store().await;
    let item = Item::new("v0");
    store.create(item.clone(), vec![]).await.expect("create");
    as_legacy(&store, raw(&store, &item, 0).await).await;

    update(&store, &item, "v1").await;

    assert_eq!(
        documents_of(&store, item.id).await,
        1,
        "the legacy v0 is gone"
    );
    let latest = store.latest(item.id).await.expect("read").expect("stored");
    assert_eq!((latest.version.get(), latest.title.as_str()), (1, "v1"));
}

#[tokio::test]
async fn a_change_left_in_flight_by_the_legacy_release_is_compacted_too() {
    let (store, _log, _db) = counted_store().await;
    let item = Item::new("v0");
    store.create(item.clone(), vec![]).await.expect("create");
    let v0 = raw(&store, &item, 0).await;
    update(&store, &item, "v1").await;
    // The legacy release stopped between storing v1 and deleting v0: both remain, legacy ids.
    as_legacy(&store, raw(&store, &item, 1).await).await;
    store_as_legacy(&store, v0).await;
    assert_eq!(documents_of(&store, item.id).await, 2);

    let page = store.page(SHELF, None, 10).await.expect("page");
    assert_eq!(page.len(), 1, "one entity listed once");

    update(&store, &item, "v2").await;

    assert_eq!(documents_of(&store, item.id).await, 1, "v0 and v1 are gone");
    let latest = store.latest(item.id).await.expect("read").expect("stored");
    assert_eq!((latest.version.get(), latest.title.as_str()), (2, "v2"));
}

#[tokio::test]
async fn revisions_stored_before_shelves_get_theirs_when_the_store_opens_once() {
    let (store, _log, db) = counted_store().await;
    let item = Item::new("v0");
    store.create(item.clone(), vec![]).await.expect("create");
    store
        .collection()
        .update_one(
            doc! { "entity": item.id },
            doc! { "$unset": { "shelf": "" } },
        )
        .await
        .expect("store it as the release before did");
    assert!(store.page(SHELF, None, 10).await.expect("page").is_empty());

    let reopened = opened_as_upgraded(&db).await;

    let page = reopened.page(SHELF, None, 10).await.expect("page");
    assert_eq!(page, vec![item.clone()], "shelved when the store opened");
    let marker = db
        .collection::<Document>("store_migrations")
        .find_one(doc! { "_id": "items:shelves" })
        .await
        .expect("query");
    assert!(marker.is_some(), "the next start does not look again");
}

#[tokio::test]
async fn a_legacy_base_left_behind_is_deleted_not_listed_when_the_store_opens() {
    let (store, _log, db) = counted_store().await;
    let item = Item::new("v0");
    store.create(item.clone(), vec![]).await.expect("create");
    let mut v0 = raw(&store, &item, 0).await;
    update(&store, &item, UNLISTED).await;
    // The legacy release had released v1 (no longer listed) and left v0 behind; neither
    // revision had a shelf then.
    store
        .collection()
        .update_one(
            doc! { "entity": item.id, "version": 1_i64 },
            doc! { "$set": { "held": false } },
        )
        .await
        .expect("released as the legacy release did");
    v0.remove("shelf");
    store_as_legacy(&store, v0).await;

    let reopened = opened_as_upgraded(&db).await;

    assert_eq!(documents_of(&reopened, item.id).await, 1, "v0 deleted");
    assert!(
        reopened
            .page(SHELF, None, 10)
            .await
            .expect("page")
            .is_empty(),
        "what is no longer listed does not show through its old base"
    );
}
