//! A request body as the exact bytes that arrived, for a route that must check them before
//! reading them (a webhook whose signature covers the bytes: any re-encoding would break it).
//! Read under the same rules as [`Json`](super::Json): the route's [`BodyLimit`](crate::protect::BodyLimit),
//! the body read timeout, and every refusal in the normalized error shape.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
};

use super::json::read_body;
use crate::ApiError;

/// The body, unparsed; any content type.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_body(req, state).await.map(Self)
    }
}
