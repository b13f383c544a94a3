//! Tracing setup: `RUST_LOG` picks the level (default `info`), `LOG_FORMAT=json` gives one JSON
//! object per line for log collectors, anything else a compact human format.
//!
//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, every span is also an OpenTelemetry span,
//! exported over OTLP/HTTP (protobuf) in batches, and every log line inside a span carries its
//! `trace_id` and `span_id`. The trace crosses services as W3C trace context ([`TraceContext`]):
//! taken from the `traceparent` header at the HTTP edge, stored with each outbox event and expiry
//! job, sent as NATS headers, and continued by every listener. Without the variable there is no
//! OpenTelemetry layer at all: no exporter, no trace ids, and nothing carried — no cost.

mod context;
mod export;
pub mod http;
mod log_ids;

use std::sync::OnceLock;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{
    EnvFilter,
    fmt::{self, format::JsonFields},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

pub use context::{SpanKind, TRACEPARENT, TRACESTATE, TraceContext, continue_trace};

/// The tracer provider while traces are exported: flushed by [`shutdown`].
static EXPORTING: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether spans are OpenTelemetry spans (and so carry ids worth propagating).
pub fn is_tracing() -> bool {
    EXPORTING.get().is_some()
}

pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{service}=info")));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let (exporter, failure) = match export::from_env(service) {
        Ok(exporter) => (exporter, None),
        Err(err) => (None, Some(err)),
    };
    let otel = exporter.as_ref().map(|exporter| exporter.layer(service));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(log_ids::Json(fmt::format().json().with_current_span(true))),
            )
            .try_init()
    } else {
        // The ids are spliced into the formatted line, which is written without colours then.
        registry
            .with(
                fmt::layer()
                    .with_ansi(exporter.is_none())
                    .event_format(log_ids::Compact(fmt::format().compact().with_target(false))),
            )
            .try_init()
    };
    if result.is_err() {
        tracing::debug!("tracing was already initialised");
        return;
    }
    if let Some(exporter) = exporter {
        tracing::info!(endpoint = %exporter.endpoint, "exporting traces over OTLP");
        let _ = EXPORTING.set(exporter.provider);
    }
    if let Some(err) = failure {
        tracing::warn!(error = %format!("{err:#}"), "traces are not exported");
    }
}

/// Sends the spans still batched and stops the exporter: the last thing a service does. Waits
/// at most a few seconds (an unreachable collector must not hold up the exit).
pub async fn shutdown() {
    let Some(provider) = EXPORTING.get().cloned() else {
        return;
    };
    // The SDK blocks the calling thread until its batch task (on this runtime) answers.
    let stopping = tokio::task::spawn_blocking(move || {
        provider.shutdown_with_timeout(export::SHUTDOWN_TIMEOUT)
    });
    match tokio::time::timeout(export::SHUTDOWN_TIMEOUT, stopping).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(err))) => eprintln!("flushing traces failed: {err}"),
        Ok(Err(err)) => eprintln!("flushing traces failed: {err}"),
        Err(_) => eprintln!(
            "flushing traces took longer than {:?}; the rest are dropped",
            export::SHUTDOWN_TIMEOUT
        ),
    }
}

/// For tests: silent unless `TEST_LOG` is set, then everything at `RUST_LOG` (default `debug`).
pub fn init_for_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_none() {
            return;
        }
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("debug"));
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().compact().with_test_writer())
            .try_init();
    });
}
