//! The tickets service's own types.

mod ticket;
mod title;

pub use ticket::Ticket;
pub use title::Title;
