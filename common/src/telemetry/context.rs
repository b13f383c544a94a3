//! W3C trace context (`traceparent`, `tracestate`) in the one form that travels: the HTTP
//! headers a client sends, a field of an outbox entry or an expiry job, the headers of a NATS
//! message. A span continues the trace it names with [`continue_trace`]; what it causes
//! carries [`TraceContext::current`] onward. With traces off both do nothing and cost nothing.

use std::fmt::Display;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use serde::{Deserialize, Serialize};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::is_tracing;

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// The trace context of the span that caused something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    pub traceparent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// The current span's context; `None` with traces off or outside every span.
    pub fn current() -> Option<Self> {
        if !is_tracing() {
            return None;
        }
        Self::of(&Span::current())
    }

    pub fn of(span: &Span) -> Option<Self> {
        if !is_tracing() || span.is_none() {
            return None;
        }
        let mut carrier = Carrier::default();
        TraceContextPropagator::new().inject_context(&span.context(), &mut carrier);
        carrier.into_context()
    }

    /// From two headers by name, as any carrier (HTTP, NATS) gives them. Only read with traces
    /// on: a client's header costs nothing otherwise.
    pub fn from_headers<'h>(header: impl Fn(&str) -> Option<&'h str>) -> Option<Self> {
        if !is_tracing() {
            return None;
        }
        Some(Self {
            traceparent: header(TRACEPARENT)?.to_owned(),
            tracestate: header(TRACESTATE).map(str::to_owned),
        })
    }

    pub fn from_http(headers: &axum::http::HeaderMap) -> Option<Self> {
        Self::from_headers(|name| headers.get(name)?.to_str().ok())
    }

    pub fn from_nats(headers: Option<&async_nats::HeaderMap>) -> Option<Self> {
        let headers = headers?;
        Self::from_headers(|name| headers.get(name).map(|value| value.as_str()))
    }
}

/// What a span is to the trace, as OpenTelemetry names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Answers a request from outside the process.
    Server,
    /// Sends an event on (the outbox relay, a job that publishes).
    Producer,
    /// Handles an event someone published.
    Consumer,
    Internal,
}

impl SpanKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Producer => "producer",
            Self::Consumer => "consumer",
            Self::Internal => "internal",
        }
    }
}

/// Makes `span` (not entered yet, declaring `otel.name` and `otel.kind` as
/// `tracing::field::Empty`) a `kind` span named `name`, in the trace `parent` names — or the
/// root of a new trace. Nothing happens with traces off, and `name` is never formatted.
pub fn continue_trace(
    span: &Span,
    kind: SpanKind,
    name: impl Display,
    parent: Option<&TraceContext>,
) {
    if !is_tracing() || span.is_none() {
        return;
    }
    span.record("otel.name", name.to_string().as_str());
    span.record("otel.kind", kind.as_str());
    if let Some(parent) = parent {
        let context = TraceContextPropagator::new().extract(parent);
        // A malformed header extracts as no parent: the span starts a trace of its own.
        if let Err(err) = span.set_parent(context) {
            tracing::debug!(error = %err, "the span's parent could not be set");
        }
    }
}

impl Extractor for TraceContext {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => Some(&self.traceparent),
            TRACESTATE => self.tracestate.as_deref(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

/// What the propagator writes a span's context into.
#[derive(Default)]
struct Carrier {
    traceparent: Option<String>,
    tracestate: Option<String>,
}

impl Carrier {
    fn into_context(self) -> Option<TraceContext> {
        Some(TraceContext {
            traceparent: self.traceparent?,
            tracestate: self.tracestate.filter(|state| !state.is_empty()),
        })
    }
}

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        match key {
            TRACEPARENT => self.traceparent = Some(value),
            TRACESTATE => self.tracestate = Some(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing::field::Empty;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const CLIENT_SPAN: &str = "00f067aa0ba902b7";

    /// Traces on for this test binary (other tests run without the layer, so they see none).
    fn tracing_on() -> impl tracing::Subscriber {
        let _ = super::super::EXPORTING.set(SdkTracerProvider::builder().build());
        let tracer = SdkTracerProvider::builder().build().tracer("test");
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer))
    }

    fn span(name: &'static str) -> Span {
        tracing::info_span!("test", otel.name = Empty, otel.kind = Empty, name)
    }

    #[test]
    fn a_span_continues_the_trace_it_is_given_and_hands_on_its_own_context() {
        tracing::subscriber::with_default(tracing_on(), || {
            let client = TraceContext {
                traceparent: format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"),
                tracestate: Some("vendor=1".to_owned()),
            };
            let request = span("request");
            continue_trace(&request, SpanKind::Server, "GET /", Some(&client));
            let inside = request
                .in_scope(TraceContext::current)
                .expect("a traced span has a context");
            let parts: Vec<&str> = inside.traceparent.split('-').collect();
            assert_eq!(parts.len(), 4, "{inside:?}");
            assert_eq!(parts[1], CLIENT_TRACE, "same trace");
            assert_ne!(parts[2], CLIENT_SPAN, "its own span id");
            assert_eq!(parts[3], "01", "sampled, as the client asked");
            assert_eq!(inside.tracestate.as_deref(), Some("vendor=1"));

            let root = span("event");
            continue_trace(&root, SpanKind::Consumer, "process", None);
            let fresh = TraceContext::of(&root).expect("a new trace");
            assert!(!fresh.traceparent.contains(CLIENT_TRACE), "{fresh:?}");

            assert_eq!(TraceContext::current(), None, "outside every span");
        });
    }

    #[test]
    fn a_malformed_traceparent_starts_a_trace_of_its_own() {
        tracing::subscriber::with_default(tracing_on(), || {
            let garbage = TraceContext {
                traceparent: "not-a-trace".to_owned(),
                tracestate: None,
            };
            let request = span("request");
            continue_trace(&request, SpanKind::Server, "GET /", Some(&garbage));
            let own = TraceContext::of(&request).expect("a new trace");
            assert!(own.traceparent.starts_with("00-"), "{own:?}");
        });
    }

    #[test]
    fn an_entry_without_a_trace_reads_as_untraced_and_writes_nothing() {
        #[derive(Debug, Serialize, Deserialize, PartialEq)]
        struct Entry {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            trace: Option<TraceContext>,
        }
        let untraced: Entry = serde_json::from_str("{}").expect("parses");
        assert_eq!(untraced, Entry { trace: None });
        assert_eq!(serde_json::to_string(&untraced).expect("writes"), "{}");
    }
}
