//! Black-box tests of the expiration worker: the service on a random port with its own events
//! prefix and Redis namespace, against real NATS JetStream and Redis.

mod backlog;
mod duplicates;
mod firing;
mod health;
mod helpers;
mod load;
mod metrics;
mod publish_failures;
mod restart;
mod startup;
