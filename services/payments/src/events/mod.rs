//! What the payments service does on other services' events: it keeps its replica of orders,
//! and refunds a payment whose order gets cancelled.

mod order_cancelled;
mod order_created;

pub use order_cancelled::OrderCancelledListener;
pub use order_created::OrderCreatedListener;
