use axum::extract::State;
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    error::OrUnexpected,
    extract::{ClientAddress, FromBody, InvalidBody, Json, OnField, Parsed, TextField},
};
use tower_cookies::Cookies;

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
    throttle::ThrottleError,
};

/// The sign-in body as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInBody {
    email: TextField,
    password: TextField,
}

/// A sign-in attempt: an address, and a password that is offered, never judged by today's rules.
#[derive(Debug)]
pub struct SignIn {
    email: Email,
    password: Password,
}

const PASSWORD_REQUIRED: &str = "You must supply a password";

impl FromBody for SignIn {
    type Body = SignInBody;
}

impl TryFrom<SignInBody> for SignIn {
    type Error = InvalidBody;

    fn try_from(body: SignInBody) -> Result<Self, InvalidBody> {
        let email = Email::parse(body.email.as_str()).on_field("email");
        let password = Some(body.password.as_str())
            .filter(|raw| !raw.trim().is_empty())
            .map(Password::offered)
            .ok_or(PASSWORD_REQUIRED)
            .on_field("password");
        match (email, password) {
            (Ok(email), Ok(password)) => Ok(Self { email, password }),
            (email, password) => Err(InvalidBody::of([email.err(), password.err()])),
        }
    }
}

const INVALID_CREDENTIALS: &str = "Invalid credentials";

#[tracing::instrument(name = "signin", skip_all)]
pub async fn signin(
    State(state): State<AppState>,
    cookies: Cookies,
    ClientAddress(address): ClientAddress,
    Parsed(SignIn { email, password }): Parsed<SignIn>,
) -> Result<Json<UserBody>, ApiError> {
    // Before the password is looked at: a refused attempt costs no hashing and tells nothing.
    let attempt = match state.throttle.begin(&email, address).await {
        Ok(attempt) => attempt,
        Err(ThrottleError::TooMany { retry_after }) => {
            tracing::info!(?address, "sign-in throttled");
            return Err(ApiError::TooManyAttempts { retry_after });
        }
        Err(ThrottleError::Database(err)) => {
            return Err(ApiError::Unexpected(err.context("throttling a sign-in")));
        }
    };
    let user = state
        .users
        .find_by_email(&email)
        .await
        .or_unexpected("signing in")?;
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let matches = state
        .hasher
        .verify(&password, stored_hash)
        .await
        .or_unexpected("verifying a password")?;
    match user {
        Some(user) if matches => {
            tracing::info!(user_id = %user.id, "user signed in");
            // The sign-in stands even if this fails: the strikes then run out with their window.
            if let Err(err) = state.throttle.succeeded(attempt).await {
                tracing::warn!(error = %format!("{err:#}"), "clearing sign-in strikes failed");
            }
            Ok(Json(start_session(&state.sessions, &cookies, user)?))
        }
        _ => Err(ApiError::bad_request(INVALID_CREDENTIALS)),
    }
}
