use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use ticketing_common::{
    ApiError, FieldError,
    error::OrUnexpected,
    extract::{Json, TextField, ValidatedJson},
};
use tower_cookies::Cookies;
use validator::{Validate, ValidationError};

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
    store::InsertUserError,
};

#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default)]
pub struct SignUpBody {
    #[validate(custom(function = "valid_email"))]
    email: TextField,
    #[validate(custom(
        function = "valid_password",
        message = "Password must be between 8 and 64 characters"
    ))]
    password: TextField,
}

fn valid_email(raw: &TextField) -> Result<(), ValidationError> {
    Email::parse(raw.as_str())
        .map(drop)
        .map_err(|message| ValidationError::new("email").with_message(message.into()))
}

fn valid_password(raw: &TextField) -> Result<(), ValidationError> {
    Password::parse(raw.as_str())
        .map(drop)
        .map_err(|_| ValidationError::new("password"))
}

#[tracing::instrument(name = "signup", skip_all)]
pub async fn signup(
    State(state): State<AppState>,
    cookies: Cookies,
    ValidatedJson(body): ValidatedJson<SignUpBody>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let email = Email::parse(body.email.as_str()).map_err(|msg| field_error("email", msg))?;
    let password =
        Password::parse(body.password.as_str()).map_err(|msg| field_error("password", msg))?;
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

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::on(field, message)])
}
