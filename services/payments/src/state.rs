use axum::extract::FromRef;
use ticketing_common::session::Sessions;

use crate::{
    gateway::Gateway,
    refunder::Refunder,
    store::{OrderReplicas, Payments},
};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub orders: OrderReplicas,
    pub payments: Payments,
    pub gateway: Gateway,
    pub refunder: Refunder,
    pub sessions: Sessions,
}
