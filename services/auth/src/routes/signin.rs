use axum::extract::State;
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    error::OrUnexpected,
    extract::{ClientAddress, Json, TextField, ValidatedJson},
};
use tower_cookies::Cookies;
use validator::{Validate, ValidationError};

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
    throttle::ThrottleError,
};

#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default)]
pub struct SignInBody {
    #[validate(custom(function = "valid_email"))]
    email: TextField,
    #[validate(custom(function = "not_blank", message = "You must supply a password"))]
    password: TextField,
}

fn valid_email(raw: &TextField) -> Result<(), ValidationError> {
    Email::parse(raw.as_str())
        .map(drop)
        .map_err(|message| ValidationError::new("email").with_message(message.into()))
}

fn not_blank(raw: &TextField) -> Result<(), ValidationError> {
    if raw.as_str().trim().is_empty() {
        Err(ValidationError::new("required"))
    } else {
        Ok(())
    }
}

const INVALID_CREDENTIALS: &str = "Invalid credentials";

#[tracing::instrument(name = "signin", skip_all)]
pub async fn signin(
    State(state): State<AppState>,
    cookies: Cookies,
    ClientAddress(address): ClientAddress,
    ValidatedJson(body): ValidatedJson<SignInBody>,
) -> Result<Json<UserBody>, ApiError> {
    let email = Email::parse(body.email.as_str())
        .map_err(|_| ApiError::bad_request(INVALID_CREDENTIALS))?;
    let password = Password::offered(body.password.as_str());
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
