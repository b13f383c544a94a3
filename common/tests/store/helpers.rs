use mongodb::{
    Database,
    bson::{Document, doc},
};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, TicketId, UserId, Version},
    events::{Envelope, OutboxEntry, OutboxSignal, TicketUpdated},
    store::{Change, Versioned, VersionedStore},
    testing::{self, CommandLog},
};

/// A small ticket-like entity whose every change announces itself with `ticket.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    #[serde(rename = "_id")]
    pub id: TicketId,
    pub version: Version,
    pub title: String,
    pub count: i64,
}

impl Versioned for Item {
    type Id = TicketId;

    fn id(&self) -> TicketId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }

    fn shelf(&self) -> Option<String> {
        (self.title != UNLISTED).then(|| SHELF.into())
    }
}

/// The one list every item shows on…
pub const SHELF: &str = "items";
/// …but an item with this title.
pub const UNLISTED: &str = "unlisted";

impl Item {
    pub fn new(title: &str) -> Self {
        Self {
            id: TicketId::new(),
            version: Version::INITIAL,
            title: title.into(),
            count: 0,
        }
    }

    /// The event announcing this state.
    pub fn event(&self) -> OutboxEntry {
        OutboxEntry::new(&Envelope::new(TicketUpdated {
            id: self.id,
            version: self.version,
            title: self.title.clone(),
            price: Money::from_cents(100).expect("money"),
            user_id: UserId::new(),
            order_id: None,
        }))
        .expect("an outbox entry")
    }

    /// The next version with `title`, counting one more change, with its event.
    pub fn next(&self, title: &str) -> Change<Item> {
        let state = Item {
            version: self.version.next(),
            title: title.into(),
            count: self.count + 1,
            ..self.clone()
        };
        let events = vec![state.event()];
        Change::Save { state, events }
    }
}

/// A store on a fresh database whose every command is logged.
pub async fn counted_store() -> (VersionedStore<Item>, CommandLog, Database) {
    ticketing_common::telemetry::init_for_tests();
    let (db, log) = testing::counted_database(&testing::mongo_config()).await;
    let store = VersionedStore::open(&db, "items", OutboxSignal::default())
        .await
        .expect("store opens");
    log.take();
    (store, log, db)
}

/// The stored revision `version` of `item`, as a raw document.
pub async fn raw(store: &VersionedStore<Item>, item: &Item, version: i64) -> Document {
    store
        .collection()
        .find_one(doc! { "entity": item.id, "version": version })
        .await
        .expect("query")
        .expect("revision stored")
}

/// How many documents the store holds for `id`.
pub async fn documents_of(store: &VersionedStore<Item>, id: TicketId) -> u64 {
    store
        .collection()
        .count_documents(doc! { "entity": id })
        .await
        .expect("count")
}

/// The keys, nonces and lineages of `id`'s documents, for failure messages.
pub async fn describe(store: &VersionedStore<Item>, id: TicketId) -> Vec<String> {
    use futures::TryStreamExt;
    store
        .collection()
        .find(doc! { "entity": id })
        .await
        .expect("query")
        .try_collect::<Vec<_>>()
        .await
        .expect("documents")
        .iter()
        .map(|doc| {
            format!(
                "{} nonce={:?} lineage={:?} held={:?}",
                doc.get_str("_id").unwrap_or("?"),
                doc.get("nonce"),
                doc.get("lineage"),
                doc.get("held")
            )
        })
        .collect()
}
