//! Black-box tests of the orders service: the app on a random port with its own database and
//! events prefix, against real FerretDB and NATS JetStream.

mod budget;
mod cancel;
mod helpers;
mod list;
mod listeners;
mod place;
mod read;
