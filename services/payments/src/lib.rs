//! The payments service: charges an order's price through Stripe (DESIGN.md §2) with a token, or
//! by card through a PaymentIntent the buyer confirms in the browser and Stripe's signed webhook
//! reports; learns of orders from their events (§4), and gives the money back for orders that end
//! cancelled anyway (§5, "Paid too late").

pub mod checkout;
pub mod configuration;
pub mod domain;
pub mod events;
pub mod gateway;
pub mod refunder;
pub mod routes;
pub mod settlement;
pub mod startup;
pub mod state;
pub mod store;
pub mod webhook;
