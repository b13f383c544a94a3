//! Domain types that cross service boundaries. Each is parsed once at the edge; holding one
//! proves the value is valid.

mod ids;
pub mod money;
mod order_status;
pub mod text;
mod version;

pub use ids::{IdError, OrderId, PaymentId, TicketId, UserId};
pub use money::{Money, MoneyError};
pub use order_status::OrderStatus;
pub use text::{TextProblem, check_visible};
pub use version::Version;
