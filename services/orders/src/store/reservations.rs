//! Which order holds which ticket (DESIGN.md §4 "Reservation"). A reservation is a document with
//! a unique ticket id: inserting it is the one atomic step that decides, among any number of
//! concurrent requests on any number of replicas, the single order that gets the ticket.
//!
//! Its `_id` names ticket *and* order, so it is never used twice: FerretDB runs a filtered
//! `delete_one` as a read and then a delete by `_id` alone, and a release of the order before
//! must not take the ticket from the next order that holds it.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::{Collection, Database, bson::doc};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{OrderId, OrderStatus, TicketId},
    mongo::{GroupInsert, ensure_index},
};

use super::Orders;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reservation {
    #[serde(rename = "_id")]
    key: String,
    ticket_id: TicketId,
    order_id: OrderId,
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    reserved_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Reservations {
    collection: Collection<Reservation>,
    /// Holds taken at the same moment share one `insert`; each is still decided on its own.
    holds: GroupInsert<Reservation>,
}

impl Reservations {
    /// A reservation younger than this may belong to an order still being written.
    pub const ORPHAN_AFTER: Duration = Duration::from_secs(60);

    /// Opens the collection and its one-holder-per-ticket index.
    pub async fn open(db: &Database) -> anyhow::Result<Self> {
        let collection = db.collection("ticket_holds");
        ensure_index(
            &collection,
            doc! { "ticket_id": 1 },
            "ticket_holds_one_per_ticket",
            true,
        )
        .await?;
        Ok(Self {
            holds: GroupInsert::new(collection.clone()),
            collection,
        })
    }

    /// Holds `ticket` for `order`; `false` if another order holds it.
    pub async fn hold(&self, ticket: TicketId, order: OrderId) -> anyhow::Result<bool> {
        let reservation = Reservation {
            key: key(ticket, order),
            ticket_id: ticket,
            order_id: order,
            reserved_at: Utc::now(),
        };
        self.holds
            .insert(reservation)
            .await
            .with_context(|| format!("reserving ticket {ticket}"))
    }

    /// Lets go of `ticket` if `order` holds it; a no-op otherwise.
    pub async fn release(&self, ticket: TicketId, order: OrderId) -> anyhow::Result<()> {
        self.collection
            .delete_one(doc! { "_id": key(ticket, order) })
            .await
            .with_context(|| format!("releasing ticket {ticket}"))?;
        Ok(())
    }

    pub async fn holder(&self, ticket: TicketId) -> anyhow::Result<Option<OrderId>> {
        let found = self
            .collection
            .find_one(doc! { "ticket_id": ticket })
            .await
            .with_context(|| format!("checking the reservation of ticket {ticket}"))?;
        Ok(found.map(|reservation| reservation.order_id))
    }

    /// Releases reservations left behind by a crash: held by an order that was never stored, or
    /// whose order ended while the release did not happen. Returns how many it released.
    pub async fn release_orphans(&self, orders: &Orders) -> anyhow::Result<usize> {
        let cutoff =
            Utc::now() - chrono::Duration::from_std(Self::ORPHAN_AFTER).unwrap_or_default();
        let stale: Vec<Reservation> = self
            .collection
            .find(doc! { "reserved_at": { "$lt": bson::DateTime::from_chrono(cutoff) } })
            .await
            .context("listing old reservations")?
            .try_collect()
            .await
            .context("reading old reservations")?;
        let mut released = 0;
        for reservation in stale {
            let order = orders.find(reservation.order_id).await?;
            if order.is_none_or(|order| order.status != OrderStatus::Created) {
                tracing::warn!(ticket_id = %reservation.ticket_id, order_id = %reservation.order_id, "releasing an orphaned reservation");
                self.release(reservation.ticket_id, reservation.order_id)
                    .await?;
                released += 1;
            }
        }
        Ok(released)
    }
}

fn key(ticket: TicketId, order: OrderId) -> String {
    format!("{ticket}:{order}")
}
