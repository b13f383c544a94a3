use axum::extract::State;
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    error::ErrorBody,
    error::OrUnexpected,
    extract::{ClientAddress, FromBody, InvalidBody, Json, OnField, Parsed, TextField},
    openapi::responses::JsonBody,
};
use tower_cookies::Cookies;
use utoipa::ToSchema;

use super::{UserBody, start_session};
use crate::{
    domain::{Email, Password},
    state::AppState,
    throttle::ThrottleError,
};

/// A user's address and password.
// Each field is `serde(default)`, not the whole body, so the document shows no default for them:
// both are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SignInBody {
    /// An address (trimmed, compared case-insensitively): `Email must be valid`, `Email must not
    /// contain control characters`, `Email must not contain text-direction control characters`,
    /// `Email must not contain invisible characters`.
    #[serde(default)]
    #[schema(value_type = String, format = Email, required = true, max_length = 254, examples("me@example.com"))]
    email: TextField,
    /// Not blank: `You must supply a password`.
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true, min_length = 1, examples("password123"))]
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

/// Signs a user in.
///
/// Failures are throttled per account and per client address (README.md, "Sign-in throttling").
#[utoipa::path(
    post,
    path = "/api/users/signin",
    operation_id = "signIn",
    tag = "users",
    request_body = SignInBody,
    responses(
        (status = 200, description = "The user, signed in: the `session` cookie is set.",
            body = UserBody, headers(("Set-Cookie" = String, description = "The session cookie: `session=<JWT>; Path=/; HttpOnly; SameSite=Lax; Max-Age=<its lifetime>`, `Secure` unless the deployment serves plain http."))),
        (status = 400, description = "One entry per broken field (`email`, `password`), a body \
            that is not a JSON object, or `Invalid credentials` (the same for an unknown address \
            and a wrong password).", body = ErrorBody),
        (status = 429, description = "`Too many attempts; try again in N seconds`: too many \
            failures for this account or from this address in the current window.",
            body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the window ends"))),
        JsonBody,
    )
)]
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
