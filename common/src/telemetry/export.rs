//! The OTLP pipeline, built only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans batched on the
//! tokio runtime (`OTEL_BSP_*` tune the batches) and posted as protobuf to
//! `<endpoint>/v1/traces` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), with the service's name as
//! the resource's `service.name`.

use std::time::Duration;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    runtime::Tokio,
    trace::{SdkTracer, SdkTracerProvider, span_processor_with_async_runtime::BatchSpanProcessor},
};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::registry::LookupSpan;

/// The variable that turns traces on, as every OpenTelemetry SDK reads it.
pub const ENDPOINT_VARIABLE: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// How long the last batch may take to leave at shutdown.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Exporter {
    pub provider: SdkTracerProvider,
    pub endpoint: String,
}

/// The exporter the environment asks for: none without [`ENDPOINT_VARIABLE`]; an error if it
/// cannot be built (the service then runs without traces, saying why).
pub fn from_env(service: &'static str) -> anyhow::Result<Option<Exporter>> {
    let Some(endpoint) = std::env::var(ENDPOINT_VARIABLE)
        .ok()
        .filter(|endpoint| !endpoint.trim().is_empty())
    else {
        return Ok(None);
    };
    // The batch processor runs as a task of this runtime.
    tokio::runtime::Handle::try_current()
        .context("traces need the tokio runtime to be running when telemetry starts")?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .with_context(|| format!("building the OTLP exporter for {endpoint}"))?;
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(exporter, Tokio).build())
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    Ok(Some(Exporter { provider, endpoint }))
}

impl Exporter {
    /// The layer that makes each `tracing` span an OpenTelemetry span of this provider.
    pub fn layer<S>(&self, service: &'static str) -> OpenTelemetryLayer<S, SdkTracer>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer(service))
            // Source locations and thread names would double every span's size for little use.
            .with_location(false)
            .with_threads(false)
    }
}
