//! What the expiration worker does on other services' events.

mod order_created;

pub use order_created::OrderCreatedListener;
