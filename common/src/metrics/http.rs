//! Counts and times every request by method, route template and status.
//!
//! The label is the template the router matched (`/api/orders/{id}`), never the raw path: ids
//! would make a series per order. A service's routes sit behind the gate of
//! [`crate::server::Gate`], a router inside the router, so the outer middleware ([`record`])
//! cannot see what the inner one matched; it leaves a slot in the request that the inner
//! middleware ([`note_route`]) fills. The slot outlives a panicking handler, so even the 500 of
//! a panic is counted under its route. What matched nothing is counted as [`UNMATCHED`].

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};

use super::catalogue;

/// The route of a request no route matched (404s, 405s, a starting service's 503s).
pub const UNMATCHED: &str = "unmatched";

/// Where the inner router writes the template it matched.
#[derive(Clone, Default)]
struct MatchedRoute(Arc<OnceLock<MatchedPath>>);

/// The outer middleware: times the request and records it once answered.
pub async fn record(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let outer = request.extensions().get::<MatchedPath>().cloned();
    let inner = MatchedRoute::default();
    request.extensions_mut().insert(inner.clone());
    let response = next.run(request).await;
    let route = outer
        .as_ref()
        .or_else(|| inner.0.get())
        .map_or(UNMATCHED, MatchedPath::as_str);
    catalogue::http_request(
        method,
        route.to_owned(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The inner middleware, on the service's own routes: tells [`record`] what matched.
pub async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(path), Some(slot)) = (
        request.extensions().get::<MatchedPath>(),
        request.extensions().get::<MatchedRoute>(),
    ) {
        // Set once: a nested router's match (the same full template) changes nothing.
        let _ = slot.0.set(path.clone());
    }
    next.run(request).await
}

/// The standard methods by name; anything else one label, so a client cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
