//! A minimal OTLP/HTTP trace receiver, standing where a collector or Jaeger would: it takes what
//! the services' exporters post to `/v1/traces` (protobuf, as `opentelemetry-otlp` sends it)
//! and keeps the spans, so a test can ask which spans one trace holds and how they link.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, PoisonError},
};

use anyhow::Context;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse},
    common::v1::any_value::Value,
    trace::v1::span::SpanKind,
};
use prost::Message;
use tokio::{net::TcpListener, task::JoinHandle};

/// One span as the receiver got it; ids in lowercase hex, as `traceparent` writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSpan {
    /// The resource's `service.name`.
    pub service: String,
    pub name: String,
    pub kind: Kind,
    pub trace_id: String,
    pub span_id: String,
    /// `None` for the root of a trace.
    pub parent_span_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Server,
    Client,
    Producer,
    Consumer,
    Internal,
}

type Spans = Arc<Mutex<Vec<ReceivedSpan>>>;

pub struct Receiver {
    endpoint: String,
    spans: Spans,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Listens on a free port of 127.0.0.1 until dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the OTLP receiver")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let spans = Spans::default();
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(spans.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("the OTLP receiver stopped: {err}");
            }
        });
        Ok(Self {
            endpoint,
            spans,
            task,
        })
    }

    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` should say: `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The spans of one trace received so far.
    pub fn trace(&self, trace_id: &str) -> Trace {
        Trace(
            self.spans()
                .into_iter()
                .filter(|span| span.trace_id == trace_id)
                .collect(),
        )
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The spans of one trace.
#[derive(Debug, Clone)]
pub struct Trace(pub Vec<ReceivedSpan>);

impl Trace {
    /// The spans `service` sent named `name`.
    pub fn named(&self, service: &str, name: &str) -> Vec<&ReceivedSpan> {
        self.0
            .iter()
            .filter(|span| span.service == service && span.name == name)
            .collect()
    }

    pub fn services(&self) -> BTreeSet<&str> {
        self.0.iter().map(|span| span.service.as_str()).collect()
    }

    pub fn span(&self, span_id: &str) -> Option<&ReceivedSpan> {
        self.0.iter().find(|span| span.span_id == span_id)
    }

    /// The span's parent, if the trace holds it.
    pub fn parent_of(&self, span: &ReceivedSpan) -> Option<&ReceivedSpan> {
        self.span(span.parent_span_id.as_deref()?)
    }

    /// Spans whose parent is neither in the trace nor one of `outside` (the client's spans,
    /// which nobody exported).
    pub fn orphans(&self, outside: &[&str]) -> Vec<&ReceivedSpan> {
        self.0
            .iter()
            .filter(|span| {
                span.parent_span_id
                    .as_deref()
                    .is_some_and(|parent| self.span(parent).is_none() && !outside.contains(&parent))
            })
            .collect()
    }
}

async fn receive(State(spans): State<Spans>, body: Bytes) -> Response {
    let request = match ExportTraceServiceRequest::decode(body) {
        Ok(request) => request,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let received = request.resource_spans.into_iter().flat_map(|resource| {
        let service = resource
            .resource
            .iter()
            .flat_map(|resource| &resource.attributes)
            .find(|attribute| attribute.key == "service.name")
            .and_then(
                |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(name) => Some(name.clone()),
                    _ => None,
                },
            )
            .unwrap_or_default();
        resource
            .scope_spans
            .into_iter()
            .flat_map(|scope| scope.spans)
            .map(move |span| ReceivedSpan {
                service: service.clone(),
                kind: Kind::from(span.kind()),
                name: span.name,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: (!span.parent_span_id.is_empty())
                    .then(|| hex(&span.parent_span_id)),
            })
    });
    spans
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(received);
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

impl From<SpanKind> for Kind {
    fn from(kind: SpanKind) -> Self {
        match kind {
            SpanKind::Server => Self::Server,
            SpanKind::Client => Self::Client,
            SpanKind::Producer => Self::Producer,
            SpanKind::Consumer => Self::Consumer,
            SpanKind::Internal | SpanKind::Unspecified => Self::Internal,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
