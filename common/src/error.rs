//! The one error type of the HTTP API. Every failure leaves a service as
//! `{"errors":[{"message":"…","field":"…"}]}` with the status codes of DESIGN.md §2; the cause chain
//! of an unexpected error goes to the log and never into the body.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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

#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    errors: &'a [FieldError],
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
        (
            status,
            Json(ErrorBody {
                errors: &self.errors(),
            }),
        )
            .into_response()
    }
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
            errors: &[FieldError::new(message)],
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
    async fn not_authorized_and_not_found_use_the_contract_messages() {
        let (status, body) = body_of(ApiError::NotAuthorized).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["errors"][0]["message"], "Not authorized");
        let (status, body) = body_of(ApiError::NotFound).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["errors"][0]["message"], "Not Found");
    }
}
