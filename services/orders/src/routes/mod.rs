//! The HTTP API: one module per resource, and its OpenAPI document ([`ApiDoc`]).

mod doc;
mod errors;
mod orders;

use axum::Router;

pub use doc::ApiDoc;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(orders::router())
}
