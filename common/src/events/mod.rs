//! The event backbone (DESIGN.md §4): the catalogue of typed events, the JetStream publisher and
//! listeners, and the outbox relay — written once for every service. The optimistic version
//! check that keeps replicas in order lives with the writes, in [`crate::store`].
//!
//! # Declaring a publisher and a listener
//!
//! A service never publishes from a request handler: the event is stored with the state change
//! that causes it, in the same write, and the service's [`OutboxRelay`] publishes it. With a
//! [`VersionedStore`](crate::store::VersionedStore) that is one call:
//!
//! ```ignore
//! // The new ticket (version 0) and its `ticket.created`, in one atomic insert.
//! let event = OutboxEntry::new(&Envelope::new(ticket.created_event()))?;
//! tickets.create(ticket_document, vec![event]).await?;
//!
//! // At start-up: one relay for the stores whose writes carry events.
//! let bus = starting.event_bus(&settings.nats, &stream).await?;
//! let relay = OutboxRelay::new(bus.publisher(), vec![tickets.outbox_collection()], signal);
//! service.with_worker(Worker::outbox_relay(relay))
//! ```
//!
//! A listener names its event type and handles it; the plumbing (durable consumer, acks, naks
//! with back-off, poison messages, progress acks for long handlers, shutdown) is [`listen`],
//! wrapped for services by [`Worker::listener`](crate::app::Worker::listener). It handles up to
//! `EVENT_CONCURRENCY` events at once (default 32), but never two with the same
//! [`Event::ordering_key`] (the ticket or order they change): those run in delivery order.
//!
//! ```ignore
//! struct OrderCreatedListener { tickets: Tickets }
//!
//! impl Listener for OrderCreatedListener {
//!     type Event = OrderCreated;
//!
//!     async fn handle(&self, event: Envelope<OrderCreated>) -> Result<(), HandleError> {
//!         let outcome = self.tickets.reserve(event.data.ticket.id, event.data.id).await?;
//!         outcome.into_handled() // applied or duplicate: ack; early: comes back later
//!     }
//! }
//!
//! service.with_worker(Worker::listener(&bus, "tickets", OrderCreatedListener { tickets }))
//! ```

mod bus;
mod catalogue;
mod envelope;
mod listener;
pub mod outbox;
mod publisher;
mod trace;

pub use bus::{EventBus, Names};
pub use catalogue::{
    CancelledTicket, Event, ExpirationComplete, OrderCancelled, OrderCreated, OrderedTicket,
    PaymentCreated, Subject, TicketCreated, TicketUpdated,
};
pub use envelope::{Envelope, EventId};
pub use listener::{HandleError, Listener, ListenerOptions, listen};
pub use outbox::{OutboxEntry, OutboxRelay, OutboxSignal};
pub use publisher::{PublishError, Publisher};
