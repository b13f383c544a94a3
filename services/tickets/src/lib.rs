//! The tickets service: tickets for sale (DESIGN.md §2), reserved and released by order events
//! (§4–5). The source of truth for tickets; orders keeps a replica fed by our events.

pub mod configuration;
pub mod domain;
pub mod events;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
