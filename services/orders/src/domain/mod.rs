//! The orders service's own types.

mod order;

pub use order::{Order, OrderTicket};
