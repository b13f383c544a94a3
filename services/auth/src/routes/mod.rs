//! `/api/users/*`: the four routes of DESIGN.md §2, one file each, and their OpenAPI document
//! ([`ApiDoc`]).

mod current_user;
mod doc;
mod signin;
mod signout;
mod signup;

pub use doc::ApiDoc;

use axum::{
    Router,
    routing::{get, post},
};
use serde::Serialize;
use ticketing_common::{
    ApiError, domain::UserId, error::OrUnexpected, protect::BodyLimit, session::Sessions,
};
use tower_cookies::Cookies;
use utoipa::ToSchema;

use crate::{state::AppState, store::User};

/// An email (at most 254 characters) and a password (at most 64): a few hundred bytes at most,
/// even with every character escaped.
const CREDENTIALS_BODY: BodyLimit = BodyLimit::kib(4);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/users/signup",
            post(signup::signup).layer(CREDENTIALS_BODY.layer()),
        )
        .route(
            "/api/users/signin",
            post(signin::signin).layer(CREDENTIALS_BODY.layer()),
        )
        .route("/api/users/signout", post(signout::signout))
        .route("/api/users/currentuser", get(current_user::current_user))
}

/// The public view of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: UserId,
    /// As stored: trimmed and lower-cased.
    #[schema(format = Email)]
    pub email: String,
}

/// Signs `user` in: a fresh token in the session cookie.
fn start_session(sessions: &Sessions, cookies: &Cookies, user: User) -> Result<UserBody, ApiError> {
    let claims = sessions.claims_for(user.id, user.email.clone());
    let token = sessions
        .sign(&claims)
        .or_unexpected("signing a session token")?;
    cookies.add(sessions.cookie(token));
    Ok(UserBody {
        id: user.id,
        email: user.email,
    })
}
