//! Tickets, kept in a [`VersionedStore`]: every change is the next version of the ticket, saved
//! together with its `ticket.updated` event, and two concurrent changes can never both win.

use mongodb::{Collection, Database, bson::Document};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, TicketId, UserId, Version, money},
    events::{Envelope, OutboxEntry, OutboxSignal},
    store::{Applied, Change, UpdateFailure, Versioned, VersionedStore},
};

use crate::domain::{Ticket, Title};

pub mod for_sale;
mod order_fates;

use order_fates::OrderFates;

#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

impl Versioned for TicketDocument {
    type Id = TicketId;

    fn id(&self) -> TicketId {
        self.id
    }

    fn version(&self) -> Version {
        self.version
    }

    /// A ticket shows on the list for sale unless an order holds it.
    fn shelf(&self) -> Option<String> {
        self.order_id
            .is_none()
            .then(|| for_sale::shelf_name(self.id))
    }
}

impl From<TicketDocument> for Ticket {
    fn from(doc: TicketDocument) -> Self {
        Self {
            id: doc.id,
            title: doc.title,
            price: doc.price,
            user_id: doc.user_id,
            version: doc.version,
            order_id: doc.order_id,
        }
    }
}

impl From<&Ticket> for TicketDocument {
    fn from(ticket: &Ticket) -> Self {
        Self {
            id: ticket.id,
            title: ticket.title.clone(),
            price: ticket.price,
            user_id: ticket.user_id,
            version: ticket.version,
            order_id: ticket.order_id,
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no such ticket")]
    NotFound,
    #[error("only the owner may edit a ticket")]
    NotOwner,
    #[error("Cannot edit a reserved ticket")]
    Reserved,
    #[error("the ticket kept changing while we tried to save")]
    Contended,
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

impl From<UpdateFailure> for EditError {
    fn from(failure: UpdateFailure) -> Self {
        match failure {
            UpdateFailure::Missing => Self::NotFound,
            UpdateFailure::Contended(_) => Self::Contended,
            UpdateFailure::Database(err) => Self::Database(err),
        }
    }
}

/// Why a reservation change (on an order's event) could not be made now.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Another order holds the ticket: its cancellation has not reached us yet.
    #[error("the ticket is held by another order")]
    HeldByAnother,
    #[error("no such ticket")]
    UnknownTicket,
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

impl From<UpdateFailure> for ChangeError {
    fn from(failure: UpdateFailure) -> Self {
        match failure {
            UpdateFailure::Missing => Self::UnknownTicket,
            // Under contention the listener's retry is the right answer.
            contended @ UpdateFailure::Contended(_) => Self::Database(contended.into()),
            UpdateFailure::Database(err) => Self::Database(err),
        }
    }
}

#[derive(Clone)]
pub struct Tickets {
    store: VersionedStore<TicketDocument>,
    /// Orders reserved for or seen cancelled, so a late `order.created` cannot keep a ticket.
    order_fates: OrderFates,
}

impl Tickets {
    pub async fn open(db: &Database, signal: OutboxSignal) -> anyhow::Result<Self> {
        Ok(Self {
            store: VersionedStore::open(db, "tickets", signal).await?,
            order_fates: OrderFates::open(db),
        })
    }

    /// Where the outbox relay finds the events to publish.
    pub fn outbox_collection(&self) -> Collection<Document> {
        self.store.collection()
    }

    /// Finishes what a crashed writer left half done (run at start-up).
    pub async fn repair(&self) -> anyhow::Result<usize> {
        self.store.repair().await
    }

    /// Repairs every `interval`, for writers that stop while the service runs.
    pub fn repairer(&self, interval: std::time::Duration) -> ticketing_common::app::Worker {
        self.store.repairer(interval)
    }

    pub async fn create(
        &self,
        title: Title,
        price: Money,
        owner: UserId,
    ) -> anyhow::Result<Ticket> {
        let ticket = Ticket {
            id: TicketId::new(),
            title,
            price,
            user_id: owner,
            version: Version::INITIAL,
            order_id: None,
        };
        let event = OutboxEntry::new(&Envelope::new(ticket.created_event()))?;
        let created = self
            .store
            .create(TicketDocument::from(&ticket), vec![event])
            .await?;
        anyhow::ensure!(created, "ticket id {} collided", ticket.id);
        Ok(ticket)
    }

    pub async fn find(&self, id: TicketId) -> anyhow::Result<Option<Ticket>> {
        Ok(self.store.latest(id).await?.map(Ticket::from))
    }

    /// Up to `limit` tickets not reserved by an order, after the ticket `after`, in the list's
    /// order (shelf by shelf, see [`for_sale`]).
    pub async fn list_for_sale(
        &self,
        after: Option<TicketId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Ticket>> {
        let page = for_sale::walk(after, limit, |shelf, after, limit| async move {
            self.store.page(&shelf, after, limit).await
        })
        .await?;
        Ok(page.into_iter().map(Ticket::from).collect())
    }

    /// The owner changes title and price; refused while the ticket is reserved. When another
    /// change wins the race, the edit is re-checked and applied on top of the newer version.
    pub async fn edit(
        &self,
        id: TicketId,
        editor: UserId,
        title: Title,
        price: Money,
    ) -> Result<Ticket, EditError> {
        let updated = self
            .store
            .update(id, |current| {
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
                    ..Ticket::from(current)
                };
                Ok(changed(&edited)?)
            })
            .await?;
        Ok(updated.into_inner().into())
    }

    /// Reserves the ticket for `order` (on `order.created`); [`ChangeError::HeldByAnother`]
    /// while another order's cancellation is still on its way.
    pub async fn reserve(&self, id: TicketId, order: OrderId) -> Result<Applied, ChangeError> {
        let reserved = self.hold_for(id, order).await?;
        // The order's cancellation may have been handled before (it overtook the creation) or
        // while we wrote; it remembers the order before releasing, so asking after our write
        // cannot miss it. Also on a duplicate: the delivery before may have stopped right here.
        if self.order_fates.cancelled_once_reserved(order).await? {
            self.free_from(id, order).await?;
        }
        Ok(reserved)
    }

    /// Releases the ticket from `order` (on `order.cancelled`). A cancellation that overtook its
    /// order's creation is remembered, so the late creation does not keep the ticket.
    pub async fn release(&self, id: TicketId, order: OrderId) -> Result<Applied, ChangeError> {
        self.order_fates.remember_cancelled(order).await?;
        self.free_from(id, order).await
    }

    async fn hold_for(&self, id: TicketId, order: OrderId) -> Result<Applied, ChangeError> {
        let updated = self
            .store
            .update(id, |current| match current.order_id {
                Some(holder) if holder == order => Ok(Change::Unchanged),
                Some(_) => Err(ChangeError::HeldByAnother),
                None => {
                    let reserved = Ticket {
                        order_id: Some(order),
                        version: current.version.next(),
                        ..Ticket::from(current)
                    };
                    Ok(changed(&reserved)?)
                }
            })
            .await?;
        Ok(updated.into())
    }

    async fn free_from(&self, id: TicketId, order: OrderId) -> Result<Applied, ChangeError> {
        let updated = self
            .store
            .update(id, |current| {
                if current.order_id != Some(order) {
                    return Ok::<_, ChangeError>(Change::Unchanged);
                }
                let released = Ticket {
                    order_id: None,
                    version: current.version.next(),
                    ..Ticket::from(current)
                };
                Ok(changed(&released)?)
            })
            .await?;
        Ok(updated.into())
    }

    /// Forgets orders seen longer ago than the event stream keeps events: no event can come for
    /// them any more. Returns how many.
    pub async fn forget_old_orders(&self) -> anyhow::Result<u64> {
        self.order_fates.forget_old().await
    }
}

/// The next version of a ticket with the `ticket.updated` event that announces it.
fn changed(ticket: &Ticket) -> anyhow::Result<Change<TicketDocument>> {
    let event = OutboxEntry::new(&Envelope::new(ticket.updated_event()))?;
    Ok(Change::Save {
        state: TicketDocument::from(ticket),
        events: vec![event],
    })
}
