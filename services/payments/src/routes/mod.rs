//! The HTTP API: one module per resource.

mod payments;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(payments::router())
}
