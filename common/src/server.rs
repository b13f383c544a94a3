//! Runs a service's HTTP API the same way everywhere: the normalized 404/405/500 bodies,
//! request ids and tracing, the limits and security headers of [`crate::protect`], `/healthz`,
//! `/readyz`, `/metrics` and the request metrics of [`crate::metrics`], the 503 answers of a
//! service that is still starting, and graceful shutdown on SIGTERM/SIGINT.

use std::{
    any::Any,
    collections::BTreeMap,
    convert::Infallible,
    io,
    sync::{
        Arc, Mutex, OnceLock, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{HeaderName, Request, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use futures::future::{BoxFuture, join_all};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower_cookies::CookieManagerLayer;
use tower_http::{
    catch_panic::CatchPanicLayer,
    classify::{SharedClassifier, StatusInRangeAsFailures},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    ApiError,
    error::{FieldError, status_response},
    metrics,
    protect::{self, BodyLimit},
    telemetry,
};

/// How long in-flight requests may take to finish once shutdown starts (k8s grace is 30 s).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Something `/readyz` asks before saying the service can take traffic.
pub trait ReadinessProbe: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn check(&self) -> BoxFuture<'_, anyhow::Result<()>>;
}

#[derive(Clone, Default)]
pub struct Probes(Arc<Vec<Box<dyn ReadinessProbe>>>);

impl Probes {
    pub fn new(probes: Vec<Box<dyn ReadinessProbe>>) -> Self {
        Self(Arc::new(probes))
    }
}

/// What a request to a service that is still starting gets, `/readyz` included.
pub const STARTING: &str = "Service is starting";

/// Where a service is between binding its port and serving its routes. Until [`Gate::open`],
/// every request but `/healthz` answers 503 [`STARTING`], and `/readyz` also lists what the
/// service is waiting for; once open, requests go to the routes and `/readyz` asks the probes.
#[derive(Clone, Default)]
pub struct Gate(Arc<GateState>);

#[derive(Default)]
struct GateState {
    open: OnceLock<Opened>,
    waiting: Mutex<BTreeMap<u64, String>>,
    next_wait: AtomicU64,
}

struct Opened {
    routes: Router,
    probes: Probes,
}

impl Gate {
    /// From now on requests go to `routes` and `/readyz` answers with `probes`. A gate opens once:
    /// a second call changes nothing.
    pub fn open(&self, routes: Router, probes: Probes) {
        let routes = telemetry::http::name_spans_by_route(routes)
            .fallback(|| async { ApiError::NotFound })
            .method_not_allowed_fallback(|| async {
                status_response(StatusCode::METHOD_NOT_ALLOWED)
            })
            // Tells the request metrics which template matched (the outer router cannot see it);
            // last, so a route's 405 fallback is inside it too.
            .layer(middleware::from_fn(metrics::http::note_route));
        if self.0.open.set(Opened { routes, probes }).is_err() {
            tracing::warn!("the service's routes were handed over twice; the first ones stay");
        }
    }

    pub fn is_open(&self) -> bool {
        self.0.open.get().is_some()
    }

    /// Shows `what` on `/readyz` while the returned guard lives.
    pub fn waiting_for(&self, what: impl Into<String>) -> Waiting {
        let id = self.0.next_wait.fetch_add(1, Ordering::Relaxed);
        self.waiting().insert(id, what.into());
        Waiting {
            gate: self.clone(),
            id,
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, String>> {
        self.0
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes once open, else the 503 of a service that is starting.
    async fn route(self, request: Request<Body>) -> Result<Response, Infallible> {
        match self.0.open.get() {
            Some(opened) => opened.routes.clone().oneshot(request).await,
            None => Ok(unavailable(vec![FieldError::new(STARTING)])),
        }
    }
}

/// One thing a starting service waits for; it leaves `/readyz` when dropped.
pub struct Waiting {
    gate: Gate,
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.gate.waiting().remove(&self.id);
    }
}

/// The service's routes plus what every service serves, with the shared middleware, for a
/// service that is ready at once.
pub fn app(routes: Router, probes: Probes) -> Router {
    let gate = Gate::default();
    gate.open(routes, probes);
    gated_app(gate)
}

/// What every service serves, with the shared middleware: `/healthz` at once, the rest through
/// `gate` (503 until it opens, then the service's routes).
pub fn gated_app(gate: Gate) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let routes = gate.clone();
    metrics::install();
    Router::new()
        .route("/healthz", get(healthz))
        // On the service's own port; the ingress forwards only `/api/...` (crate::metrics).
        .route("/metrics", get(metrics::serve))
        .merge(Router::new().route("/readyz", get(readyz)).with_state(gate))
        .fallback_service(tower::service_fn(move |request| {
            routes.clone().route(request)
        }))
        .method_not_allowed_fallback(|| async { status_response(StatusCode::METHOD_NOT_ALLOWED) })
        // A route's own limit (BodyLimit::layer) is applied after this one and wins.
        .layer(BodyLimit::DEFAULT.layer())
        .layer(middleware::from_fn(protect::limit_requests))
        .layer(CookieManagerLayer::new())
        .layer(CatchPanicLayer::custom(on_panic))
        // Outside the panic handler, so a 500 from a panic carries them too.
        .layer(middleware::from_fn(protect::security_headers))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        // Outside the panic handler and the limits, so it counts the status the client gets.
        .layer(middleware::from_fn(metrics::http::record))
        .layer(
            TraceLayer::new(not_ready_is_no_failure())
                .make_span_with(telemetry::http::request_span::<Body>),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// 500–502 are failures the trace logs as errors; a 503 is a service saying it is not ready
/// (starting, or a dependency away), which `/readyz` answers every few seconds while it lasts:
/// logging each as an error would bury the one line per attempt that says what is awaited.
fn not_ready_is_no_failure() -> SharedClassifier<StatusInRangeAsFailures> {
    StatusInRangeAsFailures::new(500..=502).into_make_classifier()
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(gate): State<Gate>) -> Response {
    let Some(opened) = gate.0.open.get() else {
        let mut errors = vec![FieldError::new(STARTING)];
        errors.extend(
            gate.waiting()
                .values()
                .map(|what| FieldError::new(format!("Waiting for {what}"))),
        );
        return unavailable(errors);
    };
    let results = join_all(opened.probes.0.iter().map(|probe| async move {
        let outcome = tokio::time::timeout(Duration::from_secs(3), probe.check()).await;
        (probe.name(), outcome)
    }))
    .await;
    let failing: Vec<FieldError> = results
        .into_iter()
        .filter_map(|(name, outcome)| {
            let reason = match outcome {
                Ok(Ok(())) => return None,
                Ok(Err(err)) => format!("{err:#}"),
                Err(_) => "timed out".to_owned(),
            };
            tracing::warn!(probe = name, %reason, "readiness probe failed");
            Some(FieldError::new(format!("{name} is not reachable")))
        })
        .collect();
    if failing.is_empty() {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        unavailable(failing)
    }
}

fn unavailable(errors: Vec<FieldError>) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "errors": errors })),
    )
        .into_response()
}

fn on_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    status_response(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Serves `app` until `shutdown` is cancelled, then stops accepting connections and gives
/// in-flight requests [`DRAIN_TIMEOUT`] to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> io::Result<()> {
    // The peer address is kept for per-client limits (`ClientAddress`).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server =
        axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let drain_deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        result = server => result,
        () = drain_deadline => {
            tracing::warn!(timeout = ?DRAIN_TIMEOUT, "in-flight requests did not finish in time; exiting anyway");
            Ok(())
        }
    }
}

/// A token cancelled on the first SIGTERM or SIGINT: the signal to stop taking work.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %err, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
            () = terminate => tracing::info!("SIGTERM received, shutting down"),
        }
        trigger.cancel();
    });
    token
}

#[cfg(test)]
mod tests {
    use axum::{body::to_bytes, routing::post};
    use serde_json::Value;

    use super::*;

    async fn call(app: &Router, method: &str, path: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("a request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn a_starting_service_is_alive_and_answers_everything_else_with_503() {
        let gate = Gate::default();
        let app = gated_app(gate.clone());
        let waiting = gate.waiting_for("MongoDB at mongodb://db:27017/tickets");

        assert_eq!(call(&app, "GET", "/healthz").await.0, StatusCode::OK);
        let (status, body) = call(&app, "GET", "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            json!({ "errors": [
                { "message": "Service is starting" },
                { "message": "Waiting for MongoDB at mongodb://db:27017/tickets" },
            ] })
        );
        for (method, path) in [
            ("GET", "/api/tickets"),
            ("POST", "/api/tickets"),
            ("GET", "/nowhere"),
        ] {
            let (status, body) = call(&app, method, path).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{method} {path}");
            assert_eq!(
                body,
                json!({ "errors": [{ "message": "Service is starting" }] })
            );
        }

        drop(waiting);
        let (_, body) = call(&app, "GET", "/readyz").await;
        assert_eq!(
            body,
            json!({ "errors": [{ "message": "Service is starting" }] })
        );
    }

    #[tokio::test]
    async fn an_open_gate_serves_the_routes_with_the_normalized_errors() {
        let gate = Gate::default();
        let app = gated_app(gate.clone());
        gate.open(
            Router::new().route("/api/things", post(|| async { StatusCode::CREATED })),
            Probes::default(),
        );

        assert!(gate.is_open());
        assert_eq!(
            call(&app, "POST", "/api/things").await.0,
            StatusCode::CREATED
        );
        let (status, body) = call(&app, "GET", "/readyz").await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({ "status": "ready" }))
        );
        let (status, body) = call(&app, "GET", "/nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({ "errors": [{ "message": "Not Found" }] }));
        assert_eq!(
            call(&app, "GET", "/api/things").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            call(&app, "POST", "/healthz").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
