//! What the orders service stores: its orders, the ticket replica, and the reservations that
//! make sure one ticket is held by one order at a time.

mod orders;
mod reservations;
mod ticket_replicas;

pub use orders::{Orders, StoredOrder, TransitionError};
pub use reservations::Reservations;
pub use ticket_replicas::{TicketReplica, TicketReplicas};
