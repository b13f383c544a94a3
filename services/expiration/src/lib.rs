//! The expiration worker (DESIGN.md §4–5): on `order.created` it stores a delayed job in Redis
//! (apalis), due at the order's `expiresAt`; when the job is due it publishes
//! `expiration.complete`. It serves no API besides `/healthz` and `/readyz`.
//!
//! How nothing is lost or doubled:
//! - `order.created` is acked only once its job is stored; the job is keyed by order id in the
//!   same atomic Redis script that stores it, so a redelivered event schedules nothing new.
//! - Jobs live in Redis, so they outlast the worker; a job due while no worker ran is taken at
//!   the next start.
//! - A job is finished only once JetStream acked its event. Its event id is derived from the
//!   order id, so if a job ever runs twice (a worker dying mid-publish) JetStream drops the copy.

pub mod configuration;
pub mod connection;
pub mod events;
pub mod jobs;
pub mod scheduler;
pub mod startup;
pub mod worker;
