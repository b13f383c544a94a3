//! What every service does to every request before its routes see it, and to every answer,
//! whether or not an ingress stands in front: limits on the request line, the headers, the body
//! and the time a request may take, each refused in the normalized error shape; and the security
//! headers of an API that only ever answers JSON.
//!
//! The ingress (infra/local/nginx.conf.template, infra/k8s) enforces looser limits of its own
//! first; these hold for a request that reaches a service some other way, and they are what a
//! client is told (README.md, "Limits").

use std::time::Duration;

use axum::{
    Extension,
    extract::{DefaultBodyLimit, Request},
    http::{
        HeaderMap, HeaderName, HeaderValue, StatusCode,
        header::{
            CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, RETRY_AFTER,
            STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
        },
    },
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::ApiError;

/// The messages of this module, in one place (the ingress says the same for its own limits).
pub mod messages {
    pub const URI_TOO_LONG: &str = "Request URL is too long";
    pub const HEADERS_TOO_LARGE: &str = "Request headers are too large";
    pub const BODY_TOO_LARGE: &str = "Request body is too large";
    pub const TOO_SLOW: &str = "The service took too long to answer; please try again";
}

/// The longest request target (path and query) a service reads: ids are 24 characters and
/// cursors about 40, so anything near this is not a request of ours.
pub const MAX_URI_BYTES: usize = 4 * 1024;
/// The most header fields a request may carry. Below hyper's own limit (100), which would
/// answer an empty 431 before this layer could say anything.
pub const MAX_HEADERS: usize = 64;
/// The most bytes of header names and values a request may carry (a session cookie is < 1 KiB).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The longest a request may take inside a service, body read included; the ingress waits a
/// little longer, so the client hears this service's answer rather than the ingress' 504.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How large a route's JSON body may be. Applied per route with [`BodyLimit::layer`]; every
/// route without one gets [`BodyLimit::DEFAULT`]. Over the limit is a 413 that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit {
    bytes: usize,
}

impl BodyLimit {
    /// For routes that name no limit of their own.
    pub const DEFAULT: Self = Self::kib(16);

    pub const fn kib(kib: usize) -> Self {
        Self { bytes: kib * 1024 }
    }

    pub const fn bytes(self) -> usize {
        self.bytes
    }

    /// The layer that enforces this limit on a route (axum's [`DefaultBodyLimit`], read by the
    /// JSON extractor) and tells the extractor what it is, for the 413's message.
    pub fn layer(self) -> (DefaultBodyLimit, Extension<BodyLimit>) {
        (DefaultBodyLimit::max(self.bytes), Extension(self))
    }

    /// What a client whose body is over `limit` is told.
    pub fn too_large_message(limit: Option<Self>) -> String {
        match limit {
            Some(limit) if limit.bytes % 1024 == 0 => {
                format!("Request body must be at most {} KiB", limit.bytes / 1024)
            }
            Some(limit) => format!("Request body must be at most {} bytes", limit.bytes),
            None => messages::BODY_TOO_LARGE.to_owned(),
        }
    }
}

/// Refuses a request whose target or headers are over the limits (414, 431), and one that takes
/// longer than [`REQUEST_TIMEOUT`] (503, with `Retry-After`: the service is slow, the client did
/// nothing wrong). Runs before routing, so an unknown path with huge headers is a 431, not a 404.
pub async fn limit_requests(request: Request, next: Next) -> Response {
    if let Err(err) = check_request_head(&request) {
        return err.into_response();
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?REQUEST_TIMEOUT, "request timed out");
            let mut response = ApiError::Rejected {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: messages::TOO_SLOW.to_owned(),
            }
            .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

fn check_request_head(request: &Request) -> Result<(), ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > MAX_URI_BYTES {
        return Err(ApiError::Rejected {
            status: StatusCode::URI_TOO_LONG,
            message: messages::URI_TOO_LONG.to_owned(),
        });
    }
    if headers_too_large(request.headers()) {
        return Err(ApiError::Rejected {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            message: messages::HEADERS_TOO_LARGE.to_owned(),
        });
    }
    Ok(())
}

fn headers_too_large(headers: &HeaderMap) -> bool {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES
}

/// The security headers of an API that answers JSON only, on every answer (errors included):
/// nothing may sniff it into another type, frame it, run anything from it or cache it (answers
/// carry a user's data, and the session cookie is re-issued on them), and no URL leaks through
/// `Referer`. `Strict-Transport-Security` is added when the request reached the ingress over
/// https (its `X-Forwarded-Proto`): exactly the deployments whose session cookie is `Secure`; a
/// browser ignores it over plain http anyway.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let over_https = request
        .headers()
        .get(X_FORWARDED_PROTO)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in API_SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if over_https {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY_VALUE),
        );
    }
    response
}

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// One year: what browsers' preload lists ask for. No `includeSubDomains`: other hosts under the
/// domain are not ours to decide for.
pub const STRICT_TRANSPORT_SECURITY_VALUE: &str = "max-age=31536000";

const API_SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (X_FRAME_OPTIONS, "DENY"),
    (
        CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (REFERRER_POLICY, "no-referrer"),
    (CACHE_CONTROL, "no-store"),
];

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, middleware, routing::get};
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route("/api/things", get(|| async { "ok" }))
            .layer(middleware::from_fn(limit_requests))
            .layer(middleware::from_fn(security_headers))
    }

    async fn call(request: Request<Body>) -> (StatusCode, HeaderMap, serde_json::Value) {
        let response = app().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, headers, body)
    }

    fn get_request(uri: &str) -> axum::http::request::Builder {
        Request::builder().method("GET").uri(uri)
    }

    #[tokio::test]
    async fn a_long_url_is_a_json_414() {
        let uri = format!("/api/things?q={}", "a".repeat(MAX_URI_BYTES));
        let (status, _, body) = call(get_request(&uri).body(Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::URI_TOO_LONG);
        assert_eq!(body["errors"][0]["message"], messages::URI_TOO_LONG);
    }

    #[tokio::test]
    async fn many_or_large_headers_are_a_json_431() {
        let mut many = get_request("/api/things");
        for i in 0..=MAX_HEADERS {
            many = many.header(format!("x-h{i}"), "1");
        }
        let large = get_request("/api/things").header("cookie", "a".repeat(MAX_HEADER_BYTES));
        for request in [many, large] {
            let (status, headers, body) = call(request.body(Body::empty()).expect("request")).await;
            assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
            assert_eq!(body["errors"][0]["message"], messages::HEADERS_TOO_LARGE);
            assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }

    #[tokio::test]
    async fn every_answer_carries_the_security_headers_and_hsts_only_over_https() {
        let (status, headers, _) = call(
            get_request("/api/things")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        for (name, value) in API_SECURITY_HEADERS {
            assert_eq!(headers[&name], value, "{name}");
        }
        assert!(!headers.contains_key(STRICT_TRANSPORT_SECURITY));

        let over_https = get_request("/api/things")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .expect("request");
        let (_, headers, _) = call(over_https).await;
        assert_eq!(
            headers[STRICT_TRANSPORT_SECURITY],
            STRICT_TRANSPORT_SECURITY_VALUE
        );
    }

    #[test]
    fn the_413_message_names_the_limit() {
        assert_eq!(
            BodyLimit::too_large_message(Some(BodyLimit::kib(4))),
            "Request body must be at most 4 KiB"
        );
        assert_eq!(BodyLimit::too_large_message(None), messages::BODY_TOO_LARGE);
    }
}
