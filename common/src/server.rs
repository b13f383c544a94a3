//! Runs a service's HTTP API the same way everywhere: the normalized 404/405/500 bodies,
//! request ids and tracing, `/healthz` and `/readyz`, and graceful shutdown on SIGTERM/SIGINT.

use std::{any::Any, io, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderName, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use futures::future::{BoxFuture, join_all};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_cookies::CookieManagerLayer;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    ApiError,
    error::{FieldError, status_response},
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

/// The service's routes plus what every service serves, with the shared middleware.
pub fn app(routes: Router, probes: Probes) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    routes
        .route("/healthz", get(healthz))
        .merge(Router::new().route("/readyz", get(readyz)).with_state(probes))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { status_response(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(CookieManagerLayer::new())
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get("x-request-id")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(probes): State<Probes>) -> Response {
    let results = join_all(probes.0.iter().map(|probe| async move {
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
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "errors": failing })),
        )
            .into_response()
    }
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
