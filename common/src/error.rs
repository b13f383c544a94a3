//! The one error type of the HTTP API. Every failure leaves a service as
//! `{"errors":[{"message":"…","field":"…"}]}` with the status codes of DESIGN.md §2; the cause chain
//! of an unexpected error goes to the log and never into the body.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// One thing wrong with a request, said for the client to show as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    #[schema(examples("Title is required"))]
    pub message: String,
    /// The body field (or query parameter) at fault, camelCase as the client sent it; only on
    /// validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(examples("title"))]
    pub field: Option<String>,
}

impl FieldError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: None,
        }
    }

    pub fn on(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

/// Every error answer of the API, from every service and from the ingress: one entry per thing
/// wrong (per broken field, for a validation error), never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(min_items = 1)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body parsed but broke the rules: 400 with one entry per broken field.
    #[error("request validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// A business rule refused the request (`Email in use`, `Ticket is already reserved`): 400.
    #[error("{0}")]
    BadRequest(String),
    /// The request could not be read at all (malformed JSON, wrong content type, too large).
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    #[error("Not authorized")]
    NotAuthorized,
    #[error("Not Found")]
    NotFound,
    /// Too many attempts at something throttled (sign-in): 429 with `Retry-After`.
    #[error("Too many attempts; try again in {} seconds", whole_seconds(*.retry_after))]
    TooManyAttempts { retry_after: Duration },
    /// A service we depend on (Stripe) failed; its message is safe to show.
    #[error("{0}")]
    BadGateway(String),
    #[error("unexpected error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Rejected { status, .. } => *status,
            Self::NotAuthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn errors(&self) -> Vec<FieldError> {
        match self {
            Self::Validation(errors) => errors.clone(),
            Self::Unexpected(_) => vec![FieldError::new("Something went wrong")],
            other => vec![FieldError::new(other.to_string())],
        }
    }
}

/// A `Something went wrong` error from anything that can fail unexpectedly (database, broker).
pub trait OrUnexpected<T> {
    fn or_unexpected(self, context: &'static str) -> Result<T, ApiError>;
}

impl<T, E> OrUnexpected<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn or_unexpected(self, context: &'static str) -> Result<T, ApiError> {
        self.map_err(|err| ApiError::Unexpected(err.into().context(context)))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Unexpected(err) = &self {
            tracing::error!(error = ?err, "request failed unexpectedly");
        }
        let mut response = (
            status,
            Json(ErrorBody {
                errors: self.errors(),
            }),
        )
            .into_response();
        if let Self::TooManyAttempts { retry_after } = &self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(whole_seconds(*retry_after)));
        }
        response
    }
}

/// A wait as the whole seconds a client is told (`Retry-After` has no fractions): rounded up,
/// and at least one, so "try again in 0 seconds" is never said.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// The rendering of a bare status (unknown route, wrong method, panics) in the normalized shape.
pub fn status_response(status: StatusCode) -> Response {
    let message = match status {
        StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
        other => other.canonical_reason().unwrap_or("Error"),
    };
    (
        status,
        Json(ErrorBody {
            errors: vec![FieldError::new(message)],
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(err: ApiError) -> (StatusCode, serde_json::Value) {
        let response = err.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body readable");
        (status, serde_json::from_slice(&bytes).expect("json body"))
    }

    #[tokio::test]
    async fn unexpected_errors_hide_their_cause() {
        let (status, body) = body_of(ApiError::Unexpected(anyhow::anyhow!(
            "password=hunter2 leaked"
        )))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"errors":[{"message":"Something went wrong"}]})
        );
    }

    #[tokio::test]
    async fn validation_errors_carry_their_fields() {
        let (status, body) = body_of(ApiError::Validation(vec![FieldError::on(
            "ticketId",
            "TicketId must be provided",
        )]))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            serde_json::json!({"errors":[{"message":"TicketId must be provided","field":"ticketId"}]})
        );
    }

    #[tokio::test]
    async fn too_many_attempts_says_when_to_retry_in_the_body_and_the_header() {
        let response = ApiError::TooManyAttempts {
            retry_after: Duration::from_millis(41_200),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("42")
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body readable");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json body");
        assert_eq!(
            body,
            serde_json::json!({"errors":[{"message":"Too many attempts; try again in 42 seconds"}]})
        );
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[tokio::test]
    async fn not_authorized_and_not_found_use_the_contract_messages() {
        let (status, body) = body_of(ApiError::NotAuthorized).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["errors"][0]["message"], "Not authorized");
        let (status, body) = body_of(ApiError::NotFound).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["errors"][0]["message"], "Not Found");
    }
}
