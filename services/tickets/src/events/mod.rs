//! What the tickets service does on other services' events.

mod order_cancelled;
mod order_created;

pub use order_cancelled::OrderCancelledListener;
pub use order_created::OrderCreatedListener;

use ticketing_common::events::HandleError;

use crate::store::ChangeError;

impl From<ChangeError> for HandleError {
    fn from(err: ChangeError) -> Self {
        match err {
            ChangeError::HeldByAnother => HandleError::Early,
            // Orders only orders tickets it learned of from us: this event contradicts our data.
            ChangeError::UnknownTicket => HandleError::Poison(err.into()),
            ChangeError::Database(err) => HandleError::Retry(err),
        }
    }
}
