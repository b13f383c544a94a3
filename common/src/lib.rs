//! What every Ticketing service shares, written once: configuration, telemetry, the API error
//! type, the session and its extractors, validated JSON, the request limits and security headers,
//! the server runner with health probes, the domain types that cross service boundaries (ids,
//! money), the event backbone, the versioned document store, and the two loops everything else
//! uses: back-off for retries ([`retry`]) and polling until something holds ([`poll`]).

pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod mongo;
pub mod openapi;
pub mod pagination;
pub mod poll;
pub mod protect;
pub mod retry;
pub mod server;
pub mod session;
pub mod store;
pub mod telemetry;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{ApiError, FieldError};
