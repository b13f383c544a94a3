//! Traces at the HTTP edge: each request's span continues the trace the client's `traceparent`
//! names (or starts one), and once the router has matched, the span is named after the route
//! template (`POST /api/orders/{id}`), not the path, so one operation is one name.

use axum::{
    Router,
    extract::{MatchedPath, Request},
    middleware::{self, Next},
    response::Response,
};
use opentelemetry::trace::TraceContextExt;
use tracing::{Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{SpanKind, TraceContext, continue_trace, is_tracing};

/// The span a request is served in (tower-http's `TraceLayer` makes it with this).
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request", method = %request.method(), uri = %request.uri(), request_id,
        otel.name = Empty, otel.kind = Empty,
    );
    continue_trace(
        &span,
        SpanKind::Server,
        format_args!("{} {}", request.method(), request.uri().path()),
        TraceContext::from_http(request.headers()).as_ref(),
    );
    span
}

/// `routes`, naming each request's span after the route that matched; unchanged with traces off.
pub fn name_spans_by_route(routes: Router) -> Router {
    if !is_tracing() {
        return routes;
    }
    routes.layer(middleware::from_fn(name_by_route))
}

async fn name_by_route(request: Request, next: Next) -> Response {
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        let name = format!("{} {}", request.method(), route.as_str());
        Span::current().context().span().update_name(name);
    }
    next.run(request).await
}
