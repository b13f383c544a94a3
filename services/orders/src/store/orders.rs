//! Orders, kept in a [`VersionedStore`]: the order and its `order.created` / `order.cancelled`
//! event are saved in one write, and of two concurrent moves of one order (the buyer cancels
//! while it expires, or a payment lands) exactly one wins.

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::{Database, bson::doc};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version, money},
    events::{Envelope, OutboxEntry, OutboxSignal},
    store::{Change, UpdateError, Updated, Versioned, VersionedStore},
};

use crate::domain::{Order, OrderTicket};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderDocument {
    #[serde(rename = "_id")]
    id: OrderId,
    user_id: UserId,
    status: OrderStatus,
    expires_at: DateTime<Utc>,
    version: Version,
    ticket: TicketSnapshot,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TicketSnapshot {
    id: TicketId,
    title: String,
    #[serde(with = "money::as_cents")]
    price: Money,
    version: Version,
}

impl Versioned for OrderDocument {
    type Id = OrderId;

    fn id(&self) -> OrderId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }
}

impl From<OrderDocument> for Order {
    fn from(doc: OrderDocument) -> Self {
        Self {
            id: doc.id,
            user_id: doc.user_id,
            status: doc.status,
            expires_at: doc.expires_at,
            version: doc.version,
            ticket: OrderTicket {
                id: doc.ticket.id,
                title: doc.ticket.title,
                price: doc.ticket.price,
                version: doc.ticket.version,
            },
        }
    }
}

impl From<&Order> for OrderDocument {
    fn from(order: &Order) -> Self {
        Self {
            id: order.id,
            user_id: order.user_id,
            status: order.status,
            expires_at: order.expires_at,
            version: order.version,
            ticket: TicketSnapshot {
                id: order.ticket.id,
                title: order.ticket.title.clone(),
                price: order.ticket.price,
                version: order.ticket.version,
            },
        }
    }
}

/// Why an order could not move to a new status.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("no such order")]
    NotFound,
    #[error("the order is already {0}")]
    Final(&'static str),
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct Orders {
    store: VersionedStore<OrderDocument>,
}

impl Orders {
    pub async fn open(db: &Database, signal: OutboxSignal) -> anyhow::Result<Self> {
        Ok(Self {
            store: VersionedStore::open(db, "orders", signal).await?,
        })
    }

    pub fn outbox_collection(&self) -> mongodb::Collection<bson::Document> {
        self.store.outbox_collection()
    }

    pub async fn repair(&self) -> anyhow::Result<usize> {
        self.store.project_pending().await
    }

    /// Stores a new order with its `order.created` event.
    pub async fn create(&self, order: &Order) -> anyhow::Result<()> {
        let event = OutboxEntry::new(&Envelope::new(order.created_event()))?;
        let created = self
            .store
            .create(OrderDocument::from(order), vec![event])
            .await?;
        anyhow::ensure!(created, "order id {} collided", order.id);
        Ok(())
    }

    /// The authoritative state of one order.
    pub async fn find(&self, id: OrderId) -> anyhow::Result<Option<Order>> {
        Ok(self.store.latest(id).await?.map(Order::from))
    }

    /// Up to `limit` of a user's orders, oldest first, after the order `after`.
    pub async fn of_user(
        &self,
        user: UserId,
        after: Option<OrderId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Order>> {
        let mut filter = doc! { "user_id": user };
        if let Some(after) = after {
            filter.insert("_id", doc! { "$gt": after });
        }
        let documents: Vec<OrderDocument> = self
            .store
            .current()
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(i64::from(limit))
            .await
            .context("listing a user's orders")?
            .try_collect()
            .await
            .context("reading a user's orders")?;
        Ok(documents.into_iter().map(Order::from).collect())
    }

    /// Moves the order to `status` (cancelled or complete), with `order.cancelled` when cancelled.
    /// Returns the order as it now is, and whether this call moved it.
    pub async fn move_to(
        &self,
        id: OrderId,
        status: OrderStatus,
    ) -> Result<(Order, bool), TransitionError> {
        let result = self
            .store
            .update(id, |current| {
                let current = Order::from(current);
                let Some(moved) = current.moved_to(status) else {
                    return Err(TransitionError::Final(current.status.as_str()));
                };
                let events = match status {
                    OrderStatus::Cancelled => {
                        vec![OutboxEntry::new(&Envelope::new(moved.cancelled_event()))?]
                    }
                    OrderStatus::Created | OrderStatus::Complete => Vec::new(),
                };
                Ok(Change::Save {
                    state: OrderDocument::from(&moved),
                    events,
                })
            })
            .await;
        match result {
            Ok(Updated::Saved(order)) => Ok((order.into(), true)),
            Ok(Updated::Unchanged(order)) => Ok((order.into(), false)),
            Err(UpdateError::Missing) => Err(TransitionError::NotFound),
            Err(UpdateError::Refused(err)) => Err(err),
            Err(UpdateError::Contended(attempts)) => {
                Err(anyhow::anyhow!("order {id} kept changing ({attempts} attempts)").into())
            }
            Err(UpdateError::Database(err)) => Err(err.into()),
        }
    }
}
