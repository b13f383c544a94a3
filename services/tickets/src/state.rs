use axum::extract::FromRef;
use ticketing_common::session::Sessions;

use crate::store::Tickets;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub tickets: Tickets,
    pub sessions: Sessions,
}
