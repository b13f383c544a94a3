//! The event backbone against the real NATS JetStream server (and FerretDB for the outbox and
//! the version checks). Every test has its own events prefix, so they run in parallel.

mod cli;
mod concurrency;
mod delivery;
mod helpers;
mod metrics;
mod outbox;
mod relay_cost;
mod versions;
