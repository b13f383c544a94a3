//! The auth service: users, sign-up, sign-in, sign-out and the session cookie (DESIGN.md §2–3).

pub mod configuration;
pub mod domain;
pub mod revoked;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod throttle;
