use axum::{
    extract::{FromRequest, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::ApiError;

/// `axum::Json` whose rejection is an [`ApiError`] instead of axum's plain-text body.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, message) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (
                StatusCode::BAD_REQUEST,
                "Malformed JSON in request body".to_owned(),
            ),
            // Valid JSON of the wrong shape (a number where text belongs): still the client's mistake.
            JsonRejection::JsonDataError(err) => (
                StatusCode::BAD_REQUEST,
                format!("Invalid request body: {}", err.body_text()),
            ),
            JsonRejection::MissingJsonContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected a request body with Content-Type: application/json".to_owned(),
            ),
            other => (other.status(), other.body_text()),
        };
        ApiError::Rejected { status, message }
    }
}
