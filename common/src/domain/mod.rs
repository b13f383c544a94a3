//! Domain types that cross service boundaries. Each is parsed once at the edge; holding one
//! proves the value is valid.

mod ids;
pub mod money;

pub use ids::{IdError, OrderId, PaymentId, TicketId, UserId};
pub use money::{Money, MoneyError};
