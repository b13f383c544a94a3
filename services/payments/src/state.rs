use axum::extract::FromRef;
use ticketing_common::session::Sessions;

use crate::{
    gateway::Gateway,
    refunder::Refunder,
    store::{OrderReplicas, Payments},
    webhook::SignatureVerifier,
};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub orders: OrderReplicas,
    pub payments: Payments,
    pub gateway: Gateway,
    pub refunder: Refunder,
    pub sessions: Sessions,
    /// Checks Stripe's webhook deliveries; `None` without `STRIPE_WEBHOOK_SECRET`, and then card
    /// payments are off.
    pub webhook: Option<SignatureVerifier>,
}
