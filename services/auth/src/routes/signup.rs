use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    error::ErrorBody,
    error::OrUnexpected,
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, TextField},
    openapi::responses::JsonBody,
};
use tower_cookies::Cookies;
use utoipa::ToSchema;

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
    store::InsertUserError,
};

/// A new user's address and password.
// Each field is `serde(default)`, not the whole body, so the document shows no default for them:
// both are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SignUpBody {
    /// An address (trimmed, compared case-insensitively): `Email must be valid`, `Email must not
    /// contain control characters`, `Email must not contain text-direction control characters`,
    /// `Email must not contain invisible characters`.
    #[serde(default)]
    #[schema(value_type = String, format = Email, required = true, max_length = 254, examples("me@example.com"))]
    email: TextField,
    /// 8 to 64 characters once trimmed: `Password must be between 8 and 64 characters`.
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true, min_length = 8, max_length = 64, examples("password123"))]
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

/// Creates a user and signs them in.
#[utoipa::path(
    post,
    path = "/api/users/signup",
    operation_id = "signUp",
    tag = "users",
    request_body = SignUpBody,
    responses(
        (status = 201, description = "The user, signed in: the `session` cookie is set.",
            body = UserBody, headers(("Set-Cookie" = String, description = "The session cookie: `session=<JWT>; Path=/; HttpOnly; SameSite=Lax; Max-Age=<its lifetime>`, `Secure` unless the deployment serves plain http."))),
        (status = 400, description = "One entry per broken field (`email`, `password`), a body \
            that is not a JSON object, or `Email in use`.", body = ErrorBody),
        JsonBody,
    )
)]
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
