//! The HTTP API: one module per resource.

mod errors;
mod tickets;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(tickets::router())
}
