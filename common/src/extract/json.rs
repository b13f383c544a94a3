//! The request body of every JSON route: a JSON **object**, read within the route's size limit,
//! turned into the route's body type. Whatever goes wrong is said in the request's terms (never a
//! Rust type name or serde's wording), in the normalized error shape.

use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{ApiError, FieldError, protect::BodyLimit};

/// How long a client may take to send its body once the headers are in: a trickle is a client's
/// fault (408), and must not hold a connection and a task for the whole request timeout.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The messages of this extractor, in one place.
pub mod messages {
    pub const NOT_AN_OBJECT: &str = "Request body must be a JSON object";
    pub const MALFORMED: &str = "Malformed JSON in request body";
    pub const NOT_JSON: &str = "Expected a request body with Content-Type: application/json";
    pub const UNREADABLE: &str = "The request body could not be read";
    pub const TOO_SLOW: &str = "The request body took too long to arrive";
}

/// A JSON object body parsed into `T`, or an [`ApiError`]: 415 without a JSON content type,
/// 413 over the route's [`BodyLimit`], 408 for a body that trickles in, 400 for malformed JSON,
/// for anything but an object (an array is not read by position, `42` is not a body), and for a
/// field of the wrong type (named, as the client sent it). Body types whose fields are
/// [`TextField`](super::TextField)s never hit the last case: their own rules say what is wrong.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(req.headers()) {
            return Err(rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                messages::NOT_JSON,
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_object(&bytes).map(Self)
    }
}

/// The whole body, read within the route's [`BodyLimit`] (413 naming it) and
/// [`BODY_READ_TIMEOUT`] (408); a broken upload is a 400.
pub(super) async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let limit = req.extensions().get::<BodyLimit>().copied();
    match tokio::time::timeout(BODY_READ_TIMEOUT, Bytes::from_request(req, state)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(rejection)) => Err(unreadable(&rejection, limit)),
        Err(_) => Err(rejected(StatusCode::REQUEST_TIMEOUT, messages::TOO_SLOW)),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `bytes` as a JSON object read into `T`.
fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(messages::NOT_AN_OBJECT));
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::bad_request(messages::MALFORMED))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(messages::NOT_AN_OBJECT));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        tracing::debug!(error = %err.inner(), %field, "request body field of the wrong type");
        ApiError::Validation(vec![FieldError::on(
            field.clone(),
            format!("{field} has a value of the wrong type"),
        )])
    })
}

/// Why the body could not be read: over the limit (413, naming the limit) or a broken upload.
fn unreadable(rejection: &BytesRejection, limit: Option<BodyLimit>) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            &BodyLimit::too_large_message(limit),
        );
    }
    tracing::debug!(reason = %rejection.body_text(), "request body unreadable");
    rejected(StatusCode::BAD_REQUEST, messages::UNREADABLE)
}

fn rejected(status: StatusCode, message: &str) -> ApiError {
    ApiError::Rejected {
        status,
        message: message.to_owned(),
    }
}

/// `application/json` or any `application/*+json`, as axum's own `Json` accepts.
fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::extract::TextField;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default, rename_all = "camelCase")]
    struct Body {
        ticket_id: TextField,
        count: u32,
    }

    impl Default for Body {
        fn default() -> Self {
            Self {
                ticket_id: TextField::default(),
                count: 1,
            }
        }
    }

    fn message_of(err: ApiError) -> (StatusCode, String) {
        let status = err.status();
        let message = match err {
            ApiError::BadRequest(message) | ApiError::Rejected { message, .. } => message,
            ApiError::Validation(errors) => errors[0].message.clone(),
            other => other.to_string(),
        };
        (status, message)
    }

    #[test]
    fn only_an_object_is_a_body() {
        for raw in [
            "42",
            "\"hello\"",
            "null",
            "true",
            "[\"a@b.co\",\"password123\"]",
            "[]",
            " ",
        ] {
            let err = parse_object::<Body>(raw.as_bytes()).expect_err(raw);
            assert_eq!(
                message_of(err),
                (StatusCode::BAD_REQUEST, messages::NOT_AN_OBJECT.to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn malformed_json_says_so() {
        for raw in ["{", "{\"a\":}", "nul", "{\"a\":1}}"] {
            let err = parse_object::<Body>(raw.as_bytes()).expect_err(raw);
            assert_eq!(message_of(err).1, messages::MALFORMED, "{raw}");
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_without_serde_wording() {
        let err = parse_object::<Body>(br#"{"count":"many"}"#).expect_err("a string count");
        let ApiError::Validation(errors) = err else {
            panic!("a validation error");
        };
        assert_eq!(
            errors,
            vec![FieldError::on(
                "count",
                "count has a value of the wrong type"
            )]
        );
    }

    #[test]
    fn text_fields_take_any_value_and_objects_parse() {
        let body: Body = parse_object(br#"{"ticketId":42}"#).expect("parses");
        assert_eq!(body.ticket_id.as_str(), "");
        let body: Body =
            parse_object(br#"{"ticketId":"abc","count":3,"extra":[1]}"#).expect("parses");
        assert_eq!((body.ticket_id.as_str(), body.count), ("abc", 3));
    }

    #[test]
    fn json_content_types_are_recognized() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().expect("a header value"));
            has_json_content_type(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!has_json_content_type(&HeaderMap::new()));
    }
}
