//! Orders, kept in a [`VersionedStore`]: the order and its `order.created` / `order.cancelled`
//! event are saved in one write, and of two concurrent moves of one order (the buyer cancels
//! while it expires, or a payment lands) exactly one wins.

use chrono::{DateTime, Utc};
use mongodb::{Database, bson::doc};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version, money},
    events::{Envelope, OutboxEntry, OutboxSignal},
    store::{Change, Current, UpdateFailure, Updated, Versioned, VersionedStore},
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

    /// An order changes once: from `created` to `cancelled` or `complete`, both final.
    fn is_final(&self) -> bool {
        self.status != OrderStatus::Created
    }

    /// Every order shows on its user's list.
    fn shelf(&self) -> Option<String> {
        Some(user_shelf(self.user_id))
    }
}

fn user_shelf(user: UserId) -> String {
    format!("user:{user}")
}

/// An order as read from the store, to move it on without reading it again.
pub struct StoredOrder(Current<OrderDocument>);

impl StoredOrder {
    pub fn order(&self) -> Order {
        Order::from(self.0.state().clone())
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

impl From<UpdateFailure> for TransitionError {
    fn from(failure: UpdateFailure) -> Self {
        match failure {
            UpdateFailure::Missing => Self::NotFound,
            // Under contention the caller's retry (or the buyer's) is the right answer.
            contended @ UpdateFailure::Contended(_) => Self::Database(contended.into()),
            UpdateFailure::Database(err) => Self::Database(err),
        }
    }
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
        self.store.collection()
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

    /// The latest state of one order.
    pub async fn find(&self, id: OrderId) -> anyhow::Result<Option<Order>> {
        Ok(self.store.latest(id).await?.map(Order::from))
    }

    /// The latest state of one order, ready to be moved on.
    pub async fn load(&self, id: OrderId) -> anyhow::Result<Option<StoredOrder>> {
        Ok(self.store.current(id).await?.map(StoredOrder))
    }

    /// Up to `limit` of a user's orders, oldest first, after the order `after`.
    pub async fn of_user(
        &self,
        user: UserId,
        after: Option<OrderId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Order>> {
        let page = self.store.page(&user_shelf(user), after, limit).await?;
        Ok(page.into_iter().map(Order::from).collect())
    }

    /// Moves the order to `status` (cancelled or complete), with `order.cancelled` when cancelled.
    /// Returns the order as it now is, and whether this call moved it.
    pub async fn move_to(
        &self,
        id: OrderId,
        status: OrderStatus,
    ) -> Result<(Order, bool), TransitionError> {
        let stored = self.load(id).await?.ok_or(TransitionError::NotFound)?;
        self.move_on(stored, status).await
    }

    /// [`Self::move_to`] for an order already read.
    pub async fn move_on(
        &self,
        stored: StoredOrder,
        status: OrderStatus,
    ) -> Result<(Order, bool), TransitionError> {
        let updated = self
            .store
            .update_from(stored.0, |current| {
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
            .await?;
        Ok(match updated {
            Updated::Saved(order) => (order.into(), true),
            Updated::Unchanged(order) => (order.into(), false),
        })
    }
}
