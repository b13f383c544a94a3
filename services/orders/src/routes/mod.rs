//! The HTTP API: one module per resource.

mod errors;
mod orders;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(orders::router())
}
