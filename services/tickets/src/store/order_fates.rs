//! What the tickets service knows of the orders it reserved for or saw cancelled, so that an
//! order's `order.created` and `order.cancelled` leave the ticket free in either order, each
//! delivered any number of times.
//!
//! One document per order, under the order's id: `cancelled: false` when a reservation claimed it
//! first, `cancelled: true` once its cancellation was seen. Both sides write the same key, so the
//! atomic insert under a unique key orders them without a read on the way:
//! - a reservation stores its change first, then claims the key. Claimed: no cancellation was
//!   seen before, and any later one releases after this change (it writes the key before it
//!   releases). Taken: only then is the document read, to tell a cancellation from an earlier
//!   delivery of the same creation.
//! - a cancellation writes the key before it releases: an insert, or, when a reservation claimed
//!   it first, `cancelled: true` set on it (only ever set to true, so the update needs no
//!   compare-and-set).
//!
//! The claims of the same moment share one insert ([`GroupInsert`]): a reservation pays a share
//! of an insert where it used to pay a read.

use anyhow::Context;
use mongodb::{
    Collection, Database,
    bson::{self, Document, doc},
};
use ticketing_common::{domain::OrderId, events::EventBus, mongo::GroupInsert};

/// The collection's name from when it held cancellations only: its documents, without the
/// `cancelled` field, are read as cancellations, so a running deployment keeps what it knew.
const COLLECTION: &str = "cancelled_orders";
const CANCELLED: &str = "cancelled";
const REMEMBERED_AT: &str = "remembered_at";

#[derive(Clone)]
pub struct OrderFates {
    fates: Collection<Document>,
    claims: GroupInsert<Document>,
}

impl OrderFates {
    pub fn open(db: &Database) -> Self {
        let fates = db.collection(COLLECTION);
        Self {
            claims: GroupInsert::new(fates.clone()),
            fates,
        }
    }

    /// Called once the reservation for `order` is stored: true if `order` was cancelled, before
    /// that or while it was being stored, so the reservation must be undone.
    pub async fn cancelled_once_reserved(&self, order: OrderId) -> anyhow::Result<bool> {
        if self.claims.insert(fate(order, false)).await? {
            return Ok(false);
        }
        let known = self
            .fates
            .find_one(doc! { "_id": order })
            .await
            .context("reading what is known of the order")?;
        Ok(known.is_some_and(|known| known.get_bool(CANCELLED).unwrap_or(true)))
    }

    /// Remembers that `order` was cancelled; call it before releasing the ticket.
    pub async fn remember_cancelled(&self, order: OrderId) -> anyhow::Result<()> {
        if self.claims.insert(fate(order, true)).await? {
            return Ok(());
        }
        // A reservation claimed the key first. Had the document gone since (forgotten past
        // the stream's retention), no `order.created` could come any more: nothing to update.
        self.fates
            .update_one(doc! { "_id": order }, doc! { "$set": { CANCELLED: true } })
            .await
            .context("remembering a cancelled order")?;
        Ok(())
    }

    /// Forgets orders first seen longer ago than the event stream keeps events: none of their
    /// events can come any more. Returns how many.
    pub async fn forget_old(&self) -> anyhow::Result<u64> {
        let retention = i64::try_from(EventBus::RETENTION.as_millis()).unwrap_or(i64::MAX);
        let cutoff = bson::DateTime::from_millis(
            bson::DateTime::now()
                .timestamp_millis()
                .saturating_sub(retention),
        );
        let forgotten = self
            .fates
            .delete_many(doc! { REMEMBERED_AT: { "$lt": cutoff } })
            .await
            .context("forgetting old orders")?;
        Ok(forgotten.deleted_count)
    }
}

fn fate(order: OrderId, cancelled: bool) -> Document {
    doc! { "_id": order, CANCELLED: cancelled, REMEMBERED_AT: bson::DateTime::now() }
}
