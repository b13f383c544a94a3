//! A whole fleet on one machine for end-to-end tests: the five service binaries (as built by
//! `cargo build`), their own NATS server, and nginx rendered from the same template as the local
//! ingress — on free ports, with their own databases, so tests run side by side. Processes can
//! be killed with SIGKILL and started again, which the failure tests do. Dropping a fleet stops
//! every process it started, nginx's workers included, and fails if one survives; then it drops
//! the fleet's databases.

mod fleet;
mod nats;
pub mod otlp;
mod process;
pub mod standalone;
mod user;

pub use fleet::{Fleet, FleetOptions, Service, is_fleet_database, is_fleet_events_prefix};
pub use user::{Answer, User, eventually};
