//! What the orders service does on other services' events.

mod expiration_complete;
mod payment_created;
mod ticket_replica;

pub use expiration_complete::ExpirationCompleteListener;
pub use payment_created::PaymentCreatedListener;
pub use ticket_replica::TicketReplicaListener;

use ticketing_common::events::HandleError;

use crate::store::TransitionError;

/// How an order transition's failure reads to the listener plumbing. The listeners answer a
/// final order themselves; one reaching here contradicts that, so it is terminated and logged
/// like any poison message rather than retried for ever.
impl From<TransitionError> for HandleError {
    fn from(err: TransitionError) -> Self {
        match err {
            // Only our own orders get expiry and payment events: an unknown one contradicts our data.
            TransitionError::NotFound | TransitionError::Final(_) => Self::Poison(err.into()),
            TransitionError::Database(err) => Self::Retry(err),
        }
    }
}
