//! The `tickets` collection. Every change bumps `version` by one and stores its event in the same
//! document's outbox, in one compare-and-set on the version it read: a change can never be saved
//! without its event, and two concurrent changes can never both win.

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    bson::{Document, doc},
};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, TicketId, UserId, Version, money},
    events::{Applied, Envelope, OutboxEntry, OutboxSignal, outbox::OUTBOX_FIELD},
};

use crate::domain::{Ticket, Title};

/// How often a change is retried when another change won the race for the same version.
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, Serialize, Deserialize)]
struct TicketDocument {
    #[serde(rename = "_id")]
    id: TicketId,
    title: Title,
    #[serde(with = "money::as_cents")]
    price: Money,
    user_id: UserId,
    version: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<OrderId>,
    /// Orders whose cancellation we have seen: a late `order.created` for one must not reserve.
    #[serde(default)]
    released_orders: Vec<OrderId>,
    #[serde(default)]
    outbox: Vec<OutboxEntry>,
}

impl TicketDocument {
    fn ticket(&self) -> Ticket {
        Ticket {
            id: self.id,
            title: self.title.clone(),
            price: self.price,
            user_id: self.user_id,
            version: self.version,
            order_id: self.order_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no such ticket")]
    NotFound,
    #[error("only the owner may edit a ticket")]
    NotOwner,
    #[error("Cannot edit a reserved ticket")]
    Reserved,
    #[error("the ticket kept changing while we tried to save")]
    Conflict,
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no ticket {0}")]
    UnknownTicket(TicketId),
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct Tickets {
    collection: Collection<TicketDocument>,
    signal: OutboxSignal,
}

impl Tickets {
    pub fn new(db: &Database, signal: OutboxSignal) -> Self {
        Self {
            collection: db.collection("tickets"),
            signal,
        }
    }

    /// The collection as the outbox relay reads it.
    pub fn outbox_collection(&self) -> Collection<Document> {
        self.collection.clone_with_type()
    }

    pub async fn create(&self, title: Title, price: Money, owner: UserId) -> anyhow::Result<Ticket> {
        let ticket = Ticket {
            id: TicketId::new(),
            title,
            price,
            user_id: owner,
            version: Version::INITIAL,
            order_id: None,
        };
        let event = Envelope::new(ticket.created_event());
        let document = TicketDocument {
            id: ticket.id,
            title: ticket.title.clone(),
            price,
            user_id: owner,
            version: ticket.version,
            order_id: None,
            released_orders: Vec::new(),
            outbox: vec![OutboxEntry::new(&event)?],
        };
        self.collection.insert_one(&document).await.context("inserting a ticket")?;
        self.signal.notify();
        Ok(ticket)
    }

    pub async fn find(&self, id: TicketId) -> anyhow::Result<Option<Ticket>> {
        Ok(self.document(id).await?.map(|doc| doc.ticket()))
    }

    /// Tickets not reserved by an order, oldest first.
    pub async fn list_for_sale(&self) -> anyhow::Result<Vec<Ticket>> {
        let documents: Vec<TicketDocument> = self
            .collection
            .find(doc! { "order_id": { "$exists": false } })
            .sort(doc! { "_id": 1 })
            .await
            .context("listing tickets")?
            .try_collect()
            .await
            .context("reading tickets")?;
        Ok(documents.iter().map(TicketDocument::ticket).collect())
    }

    /// The owner changes title and price; refused while the ticket is reserved. A concurrent
    /// change makes us re-read and re-check, so the edit applies on top of the newest version.
    pub async fn edit(&self, id: TicketId, editor: UserId, title: Title, price: Money) -> Result<Ticket, EditError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.document(id).await?.ok_or(EditError::NotFound)?;
            if current.user_id != editor {
                return Err(EditError::NotOwner);
            }
            if current.order_id.is_some() {
                return Err(EditError::Reserved);
            }
            let edited = Ticket {
                title: title.clone(),
                price,
                version: current.version.next(),
                ..current.ticket()
            };
            if self.save_change(&current, &edited, None).await? {
                return Ok(edited);
            }
        }
        Err(EditError::Conflict)
    }

    /// Reserves the ticket for `order` (on `order.created`).
    pub async fn reserve(&self, id: TicketId, order: OrderId) -> Result<Applied, ChangeError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.document(id).await?.ok_or(ChangeError::UnknownTicket(id))?;
            if current.order_id == Some(order) || current.released_orders.contains(&order) {
                return Ok(Applied::Duplicate);
            }
            if current.order_id.is_some() {
                // Another order holds it; its cancellation has not reached us yet.
                return Ok(Applied::Early);
            }
            let reserved = Ticket {
                order_id: Some(order),
                version: current.version.next(),
                ..current.ticket()
            };
            if self.save_change(&current, &reserved, None).await? {
                return Ok(Applied::Applied);
            }
        }
        Err(ChangeError::Database(anyhow::anyhow!("ticket {id} kept changing while reserving")))
    }

    /// Releases the ticket from `order` (on `order.cancelled`). A cancellation that overtook its
    /// order's creation is remembered, so the late creation does not reserve.
    pub async fn release(&self, id: TicketId, order: OrderId) -> Result<Applied, ChangeError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.document(id).await?.ok_or(ChangeError::UnknownTicket(id))?;
            if current.released_orders.contains(&order) {
                return Ok(Applied::Duplicate);
            }
            if current.order_id != Some(order) {
                self.collection
                    .update_one(doc! { "_id": id }, doc! { "$addToSet": { "released_orders": order } })
                    .await
                    .context("remembering a cancelled order")?;
                return Ok(Applied::Applied);
            }
            let released = Ticket {
                order_id: None,
                version: current.version.next(),
                ..current.ticket()
            };
            if self.save_change(&current, &released, Some(order)).await? {
                return Ok(Applied::Applied);
            }
        }
        Err(ChangeError::Database(anyhow::anyhow!("ticket {id} kept changing while releasing")))
    }

    async fn document(&self, id: TicketId) -> anyhow::Result<Option<TicketDocument>> {
        self.collection
            .find_one(doc! { "_id": id })
            .await
            .with_context(|| format!("loading ticket {id}"))
    }

    /// Writes `after` with its `ticket.updated` event if the ticket is still at `before`'s
    /// version. Returns false when another change got there first.
    async fn save_change(&self, before: &TicketDocument, after: &Ticket, released: Option<OrderId>) -> anyhow::Result<bool> {
        let event = OutboxEntry::new(&Envelope::new(after.updated_event()))?.to_bson()?;
        let mut set = doc! {
            "title": after.title.as_str(),
            "price": after.price.cents(),
            "version": after.version,
        };
        let mut push = doc! { OUTBOX_FIELD: event };
        if let Some(order) = released {
            push.insert("released_orders", order);
        }
        let mut update = doc! {};
        match after.order_id {
            Some(order) => {
                set.insert("order_id", order);
            }
            None => {
                update.insert("$unset", doc! { "order_id": "" });
            }
        }
        update.insert("$set", set);
        update.insert("$push", push);
        let result = self
            .collection
            .update_one(doc! { "_id": before.id, "version": before.version }, update)
            .await
            .with_context(|| format!("saving ticket {}", before.id))?;
        let saved = result.matched_count == 1;
        if saved {
            self.signal.notify();
        }
        Ok(saved)
    }
}
