//! The replica of tickets, fed by `ticket.created` / `ticket.updated` in version order.

use mongodb::{Collection, Database, bson::Document};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, TicketId, Version, money},
    events::OutboxSignal,
    store::{Applied, Versioned, VersionedStore},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketReplica {
    #[serde(rename = "_id")]
    pub id: TicketId,
    pub title: String,
    #[serde(with = "money::as_cents")]
    pub price: Money,
    pub version: Version,
}

impl Versioned for TicketReplica {
    type Id = TicketId;

    fn id(&self) -> TicketId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }
}

#[derive(Clone)]
pub struct TicketReplicas {
    store: VersionedStore<TicketReplica>,
}

impl TicketReplicas {
    pub async fn open(db: &Database) -> anyhow::Result<Self> {
        // Replica updates cause no events, so nothing waits on a signal.
        Ok(Self {
            store: VersionedStore::open(db, "tickets", OutboxSignal::default()).await?,
        })
    }

    pub async fn find(&self, id: TicketId) -> anyhow::Result<Option<TicketReplica>> {
        self.store.latest(id).await
    }

    pub async fn apply(&self, ticket: TicketReplica) -> anyhow::Result<Applied> {
        self.store.apply_in_order(ticket).await
    }

    /// The replica's collection, for tests and the operator.
    pub fn collection(&self) -> Collection<Document> {
        self.store.collection()
    }
}
