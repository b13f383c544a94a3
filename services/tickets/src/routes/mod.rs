//! The HTTP API: one module per resource, and its OpenAPI document ([`ApiDoc`]).

mod doc;
mod errors;
mod tickets;

use axum::Router;

pub use doc::ApiDoc;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(tickets::router())
}
