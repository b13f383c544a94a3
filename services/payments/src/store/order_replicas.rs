//! The replica of orders, fed by `order.created` / `order.cancelled` in version order: what
//! payments needs to know to charge for an order and to know whether it may still be paid.

use chrono::{DateTime, Utc};
use mongodb::{Collection, Database, bson::Document};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, OrderStatus, UserId, Version, money},
    events::{OrderCancelled, OrderCreated, OutboxSignal},
    store::{Applied, Versioned, VersionedStore},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderReplica {
    #[serde(rename = "_id")]
    pub id: OrderId,
    pub version: Version,
    pub user_id: UserId,
    #[serde(with = "money::as_cents")]
    pub price: Money,
    pub status: OrderStatus,
    /// When orders will cancel the order if it is unpaid. Absent from replicas written before it
    /// was kept.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl OrderReplica {
    pub fn created(event: &OrderCreated) -> Self {
        Self {
            id: event.id,
            version: event.version,
            user_id: event.user_id,
            price: event.ticket.price,
            status: event.status,
            expires_at: Some(event.expires_at),
        }
    }

    /// This order cancelled at `version`. `order.cancelled` carries only the id and the version,
    /// so the buyer and the price come from the version held.
    pub fn cancelled_at(&self, version: Version) -> Self {
        Self {
            version,
            status: OrderStatus::Cancelled,
            ..self.clone()
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.status == OrderStatus::Cancelled
    }

    /// Past its expiry at `now`: its cancellation is due, whether or not it has arrived.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

impl Versioned for OrderReplica {
    type Id = OrderId;

    fn id(&self) -> OrderId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }
}

#[derive(Clone)]
pub struct OrderReplicas {
    store: VersionedStore<OrderReplica>,
}

impl OrderReplicas {
    pub async fn open(db: &Database) -> anyhow::Result<Self> {
        // Replica updates cause no events, so nothing waits on a signal.
        Ok(Self {
            store: VersionedStore::open(db, "orders", OutboxSignal::default()).await?,
        })
    }

    /// The latest state: the payment checks and the "paid too late" re-check see a
    /// cancellation as soon as it is stored.
    pub async fn find(&self, id: OrderId) -> anyhow::Result<Option<OrderReplica>> {
        self.store.latest(id).await
    }

    pub async fn apply_created(&self, event: &OrderCreated) -> anyhow::Result<Applied> {
        self.store
            .apply_in_order(OrderReplica::created(event))
            .await
    }

    /// Early while the order is unknown: its `order.created` has not been applied yet.
    pub async fn apply_cancelled(&self, event: &OrderCancelled) -> anyhow::Result<Applied> {
        self.store
            .apply_version(event.id, event.version, |held| {
                held.map(|held| held.cancelled_at(event.version))
            })
            .await
    }

    /// The replica's collection, for tests and the operator.
    pub fn collection(&self) -> Collection<Document> {
        self.store.collection()
    }
}
