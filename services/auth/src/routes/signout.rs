use axum::extract::State;
use serde_json::{Value, json};
use ticketing_common::extract::Json;
use tower_cookies::Cookies;

use crate::state::AppState;

/// Always succeeds: signing out twice, or while signed out, is not an error.
pub async fn signout(State(state): State<AppState>, cookies: Cookies) -> Json<Value> {
    cookies.remove(state.sessions.removal_cookie());
    Json(json!({}))
}
