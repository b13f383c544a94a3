use axum::extract::State;
use chrono::Utc;
use serde::Serialize;
use ticketing_common::{
    ApiError,
    domain::UserId,
    error::OrUnexpected,
    extract::{CurrentUser, Json},
    session::{COOKIE_NAME, Claims},
};
use tower_cookies::Cookies;

use crate::state::AppState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserBody {
    current_user: Option<SessionView>,
}

/// What the API shows of a session (DESIGN.md §2): `{id,email,iat,exp}`, not the token's id.
#[derive(Debug, Serialize)]
pub struct SessionView {
    id: UserId,
    email: String,
    iat: i64,
    exp: i64,
}

impl From<Claims> for SessionView {
    fn from(claims: Claims) -> Self {
        Self {
            id: claims.id,
            email: claims.email,
            iat: claims.iat,
            exp: claims.exp,
        }
    }
}

/// Who is signed in. Past half its life the session is re-issued, so an active user stays in;
/// a session ended by sign-out is nobody (and is never re-issued).
pub async fn current_user(
    State(state): State<AppState>,
    cookies: Cookies,
    CurrentUser(claims): CurrentUser,
) -> Result<Json<CurrentUserBody>, ApiError> {
    let token = cookies
        .get(COOKIE_NAME)
        .map(|cookie| cookie.value().to_owned());
    let claims = match (claims, token) {
        (Some(claims), Some(token)) => {
            let revoked = state
                .revoked
                .is_revoked(&token)
                .await
                .or_unexpected("checking a session")?;
            if revoked {
                cookies.remove(state.sessions.removal_cookie());
                None
            } else {
                Some(claims)
            }
        }
        _ => None,
    };
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
    Ok(Json(CurrentUserBody {
        current_user: current_user.map(SessionView::from),
    }))
}
