use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header::COOKIE, request::Parts},
};
use tower_cookies::Cookie;

use crate::{
    ApiError,
    session::{COOKIE_NAME, Claims, Sessions},
};

/// The signed-in user, if any. A missing, tampered or expired session is simply `None`.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<Claims>);

/// The signed-in user; rejects with 401 `Not authorized` otherwise.
#[derive(Debug, Clone)]
pub struct RequireUser(pub Claims);

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    Sessions: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = Sessions::from_ref(state);
        let claims = session_token(parts).and_then(|token| sessions.verify(&token));
        Ok(Self(claims))
    }
}

impl<S> FromRequestParts<S> for RequireUser
where
    S: Send + Sync,
    Sessions: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(claims) = CurrentUser::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        claims.map(Self).ok_or(ApiError::NotAuthorized)
    }
}

/// The `session` cookie's value, read straight from the headers so that no cookie layer is needed.
fn session_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .map(|cookie| cookie.value().to_owned())
}
