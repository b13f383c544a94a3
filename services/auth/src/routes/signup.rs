use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    error::OrUnexpected,
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, TextField},
};
use tower_cookies::Cookies;

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
    store::InsertUserError,
};

/// The sign-up body as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignUpBody {
    email: TextField,
    password: TextField,
}

/// A sign-up: an address and a password that meets the rules.
#[derive(Debug)]
pub struct SignUp {
    email: Email,
    password: Password,
}

impl FromBody for SignUp {
    type Body = SignUpBody;
}

impl TryFrom<SignUpBody> for SignUp {
    type Error = InvalidBody;

    fn try_from(body: SignUpBody) -> Result<Self, InvalidBody> {
        let email = Email::parse(body.email.as_str()).on_field("email");
        let password = Password::parse(body.password.as_str()).on_field("password");
        match (email, password) {
            (Ok(email), Ok(password)) => Ok(Self { email, password }),
            (email, password) => Err(InvalidBody::of([email.err(), password.err()])),
        }
    }
}

#[tracing::instrument(name = "signup", skip_all)]
pub async fn signup(
    State(state): State<AppState>,
    cookies: Cookies,
    Parsed(SignUp { email, password }): Parsed<SignUp>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let hash = state
        .hasher
        .hash(&password)
        .await
        .or_unexpected("hashing a password")?;
    let user = match state.users.insert(&email, hash).await {
        Ok(user) => user,
        Err(InsertUserError::EmailInUse) => return Err(ApiError::bad_request("Email in use")),
        Err(InsertUserError::Database(err)) => return Err(ApiError::Unexpected(err)),
    };
    tracing::info!(user_id = %user.id, "user signed up");
    let body = start_session(&state.sessions, &cookies, user)?;
    Ok((StatusCode::CREATED, Json(body)))
}
