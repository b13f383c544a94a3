//! The event backbone (DESIGN.md §4): the catalogue of typed events, the JetStream publisher and
//! listeners, the outbox relay and the optimistic version check — written once for every service.
//!
//! # Declaring a publisher and a listener
//!
//! A service never publishes from a request handler: it stores the event in the outbox of the
//! document it changes, in the same write, and runs a relay that publishes it.
//!
//! ```ignore
//! use ticketing_common::events::{outbox, Envelope, EventBus, OutboxRelay, TicketCreated};
//!
//! // In the write: the new ticket and its event, atomically.
//! let event = Envelope::new(TicketCreated { id, version, title, price, user_id });
//! let mut ticket = bson::to_document(&ticket)?;
//! ticket.insert(outbox::OUTBOX_FIELD, vec![OutboxEntry::new(&event)?.to_bson()?]);
//! tickets.insert_one(ticket).await?;
//! signal.notify();
//!
//! // At start-up: the relay for the collections that carry an outbox.
//! let bus = EventBus::connect(&settings.nats).await?;
//! tokio::spawn(OutboxRelay::new(bus.publisher(), vec![tickets], signal).run(shutdown.clone()));
//! ```
//!
//! A listener names its event type and handles it; the plumbing is [`listen`]:
//!
//! ```ignore
//! struct OrderCreatedListener { tickets: TicketStore }
//!
//! impl Listener for OrderCreatedListener {
//!     type Event = OrderCreated;
//!     async fn handle(&self, event: Envelope<OrderCreated>) -> Result<(), HandleError> {
//!         self.tickets.reserve(event.data.ticket.id, event.data.id).await?;
//!         Ok(())
//!     }
//! }
//!
//! tokio::spawn(listen(&bus, "tickets", OrderCreatedListener { tickets }, Default::default(), shutdown));
//! ```

mod bus;
mod catalogue;
mod envelope;
mod listener;
pub mod outbox;
mod publisher;

pub use bus::{EventBus, Names};
pub use catalogue::{
    CancelledTicket, Event, ExpirationComplete, OrderCancelled, OrderCreated, OrderedTicket,
    PaymentCreated, Subject, TicketCreated, TicketUpdated,
};
pub use envelope::{Envelope, EventId};
pub use listener::{HandleError, Listener, ListenerOptions, listen};
pub use outbox::{OutboxEntry, OutboxRelay, OutboxSignal};
pub use publisher::{PublishError, Publisher};
