use std::time::Duration;

use axum::extract::FromRef;
use ticketing_common::session::Sessions;

use crate::store::{Orders, Reservations, TicketReplicas};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub orders: Orders,
    pub tickets: TicketReplicas,
    pub reservations: Reservations,
    pub sessions: Sessions,
    pub order_expiration: Duration,
}
