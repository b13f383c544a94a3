//! Black-box tests of the payments service: the app on a random port with its own database and
//! events prefix, against real FerretDB and NATS JetStream, and Stripe played by stripe-mock
//! behind a recording test double.

mod cards;
mod helpers;
mod intents;
mod metrics;
mod pay;
mod refunds;
mod replica;
mod stripe_double;
mod stripe_errors;
mod webhook;
