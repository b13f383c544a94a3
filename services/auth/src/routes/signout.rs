use axum::extract::State;
use serde_json::{Value, json};
use ticketing_common::{ApiError, error::OrUnexpected, extract::Json, session::COOKIE_NAME};
use tower_cookies::Cookies;

use crate::state::AppState;

/// Signs out: clears the session cookie and revokes the session at auth.
///
/// Always succeeds: signing out twice, or while signed out, is not an error. The token the session
/// carried is never honoured by auth again, even if a copy of it survives.
// The revocation is crate::revoked.
#[utoipa::path(
    post,
    path = "/api/users/signout",
    operation_id = "signOut",
    tag = "users",
    security((), ("session" = [])),
    responses(
        (status = 200, description = "Signed out (or already): the cookie is cleared.",
            body = Object,
            headers(("Set-Cookie" = String, description = "The session cookie removed: `session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`.")),
            example = json!({})),
    )
)]
pub async fn signout(
    State(state): State<AppState>,
    cookies: Cookies,
) -> Result<Json<Value>, ApiError> {
    let token = cookies
        .get(COOKIE_NAME)
        .map(|cookie| cookie.value().to_owned());
    // Cleared first: even if the revocation below fails, the browser forgets the session.
    cookies.remove(state.sessions.removal_cookie());
    if let Some(token) = token
        && let Some(claims) = state.sessions.verify(&token)
    {
        state
            .revoked
            .revoke(&token, &claims)
            .await
            .or_unexpected("revoking a session at sign-out")?;
        tracing::info!(user_id = %claims.id, "user signed out");
    }
    Ok(Json(json!({})))
}
