use axum::extract::State;
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    error::OrUnexpected,
    extract::{Json, ValidatedJson},
};
use tower_cookies::Cookies;
use validator::{Validate, ValidationError};

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
};

#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default)]
pub struct SignInBody {
    #[validate(custom(function = "valid_email", message = "Email must be valid"))]
    email: String,
    #[validate(custom(function = "not_blank", message = "You must supply a password"))]
    password: String,
}

fn valid_email(raw: &str) -> Result<(), ValidationError> {
    Email::parse(raw)
        .map(drop)
        .map_err(|_| ValidationError::new("email"))
}

fn not_blank(raw: &str) -> Result<(), ValidationError> {
    if raw.trim().is_empty() {
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
    ValidatedJson(body): ValidatedJson<SignInBody>,
) -> Result<Json<UserBody>, ApiError> {
    let email =
        Email::parse(&body.email).map_err(|_| ApiError::bad_request(INVALID_CREDENTIALS))?;
    let password = Password::offered(&body.password);
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
            Ok(Json(start_session(&state.sessions, &cookies, user)?))
        }
        _ => Err(ApiError::bad_request(INVALID_CREDENTIALS)),
    }
}
