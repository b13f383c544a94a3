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
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserBody {
    /// The signed-in user's session, or `null` for nobody.
    current_user: Option<SessionView>,
}

/// A session as the API shows it: `{id,email,iat,exp}` (not the token's own id).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    id: UserId,
    #[schema(format = Email)]
    email: String,
    /// When the session was issued (or last re-issued), in seconds since the Unix epoch.
    iat: i64,
    /// When it ends, in seconds since the Unix epoch.
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

/// Who is signed in.
///
/// Past half its life the session is re-issued, so an active user stays in; a session ended by
/// sign-out is nobody (and is never re-issued).
#[utoipa::path(
    get,
    path = "/api/users/currentuser",
    operation_id = "currentUser",
    tag = "users",
    security((), ("session" = [])),
    responses(
        (status = 200, description = "The session's user, or `null` without a valid session.",
            body = CurrentUserBody,
            headers(("Set-Cookie" = String, description = "The session cookie: `session=<JWT>; Path=/; HttpOnly; SameSite=Lax; Max-Age=<its lifetime>`, `Secure` unless the deployment serves plain http."))),
    )
)]
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
