//! Black-box tests of the tickets service: the app on a random port with its own database and
//! events prefix, against real FerretDB and NATS JetStream.

mod budget;
mod cancellations;
mod create;
mod edit;
mod helpers;
mod hostile;
mod list;
mod listeners;
mod read;
