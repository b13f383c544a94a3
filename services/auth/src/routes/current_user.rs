use axum::extract::State;
use chrono::Utc;
use serde::Serialize;
use ticketing_common::{
    ApiError,
    error::OrUnexpected,
    extract::{CurrentUser, Json},
    session::Claims,
};
use tower_cookies::Cookies;

use crate::state::AppState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserBody {
    current_user: Option<Claims>,
}

/// Who is signed in. Past half its life the session is re-issued, so an active user stays in.
pub async fn current_user(
    State(state): State<AppState>,
    cookies: Cookies,
    CurrentUser(claims): CurrentUser,
) -> Result<Json<CurrentUserBody>, ApiError> {
    let current_user = match claims {
        Some(claims) if claims.past_half_life(Utc::now().timestamp()) => {
            let fresh = state.sessions.claims_for(claims.id, claims.email);
            let token = state
                .sessions
                .sign(&fresh)
                .or_unexpected("re-issuing a session")?;
            cookies.add(state.sessions.cookie(token));
            Some(fresh)
        }
        other => other,
    };
    Ok(Json(CurrentUserBody { current_user }))
}
