//! What the orders service does on other services' events.

mod expiration_complete;
mod payment_created;
mod ticket_replica;

pub use expiration_complete::ExpirationCompleteListener;
pub use payment_created::PaymentCreatedListener;
pub use ticket_replica::TicketReplicaListener;

use ticketing_common::events::HandleError;

use crate::store::TransitionError;

/// How an order transition's failure reads to the listener plumbing.
fn transition_failure(err: TransitionError) -> HandleError {
    match err {
        // Only our own orders get expiry and payment events: an unknown one contradicts our data.
        TransitionError::NotFound => HandleError::Poison(err.into()),
        TransitionError::Database(err) => HandleError::Retry(err),
        TransitionError::Final(_) => {
            HandleError::Retry(anyhow::anyhow!("unreachable: final orders are handled"))
        }
    }
}
