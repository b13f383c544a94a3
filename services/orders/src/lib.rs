//! The orders service: reservations of tickets (DESIGN.md §2), fed a replica of tickets by
//! events, and moved along by expiry and payment events (§4–5).

pub mod configuration;
pub mod domain;
pub mod events;
pub mod lifecycle;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
