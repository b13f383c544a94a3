//! A replica remembers the version it applied last, to apply the next without reading. Two
//! instances share the collection: what one remembers goes stale when the other applies later
//! versions, and that must cost a read, never a regression, a lost version or a ghost.

use ticketing_common::{
    domain::Version,
    events::OutboxSignal,
    store::{Applied, VersionedStore},
};

use crate::helpers::{Item, counted_store, describe, documents_of};

#[tokio::test]
async fn an_instance_remembering_an_old_version_neither_regresses_nor_misses_the_next() {
    let (first, _log, db) = counted_store().await;
    let second = VersionedStore::<Item>::open(&db, "items", OutboxSignal::default())
        .await
        .expect("store opens");
    let item = Item::new("v0");
    let version = |n: i64| Item {
        version: Version::new(n).expect("version"),
        title: format!("v{n}"),
        ..item.clone()
    };
    let title = async |store: &VersionedStore<Item>| {
        store
            .latest(item.id)
            .await
            .expect("read")
            .expect("stored")
            .title
    };

    assert_eq!(
        first.apply_in_order(version(0)).await.expect("apply"),
        Applied::Applied
    );
    assert_eq!(
        first.apply_in_order(version(2)).await.expect("apply"),
        Applied::Early,
        "remembering v0 is no licence to skip v1"
    );
    for n in [1, 2] {
        assert_eq!(
            second.apply_in_order(version(n)).await.expect("apply"),
            Applied::Applied
        );
    }

    // `first` still remembers v0; v1 was compacted away, so its claim is free again.
    assert_eq!(
        first.apply_in_order(version(1)).await.expect("apply"),
        Applied::Duplicate,
        "a late v1 built on the remembered v0 is undone"
    );
    assert_eq!(title(&first).await, "v2");
    assert_eq!(
        documents_of(&first, item.id).await,
        1,
        "{:?}",
        describe(&first, item.id).await
    );

    assert_eq!(
        first.apply_in_order(version(3)).await.expect("apply"),
        Applied::Applied,
        "having forgotten v0, it reads and applies the next version"
    );
    assert_eq!(
        first.apply_in_order(version(2)).await.expect("apply"),
        Applied::Duplicate
    );
    assert_eq!(
        second.apply_in_order(version(3)).await.expect("apply"),
        Applied::Duplicate,
        "the other instance, remembering v2, finds v3 taken"
    );
    assert_eq!(
        second.apply_in_order(version(4)).await.expect("apply"),
        Applied::Applied
    );
    assert_eq!(title(&second).await, "v4");
    assert_eq!(
        documents_of(&second, item.id).await,
        1,
        "{:?}",
        describe(&second, item.id).await
    );
}
