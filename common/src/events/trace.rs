//! Traces across the bus. An event carries the trace context of the span that caused it (kept
//! in its outbox entry until the relay sends it): it is sent in a `publish` span of that trace,
//! whose context travels as the message's `traceparent`/`tracestate` headers, and handled in a
//! `process` span continuing from them — so what a handler writes to its own outbox, and so
//! publishes in turn, stays in the same trace. With traces off, no span, header or byte more.

use async_nats::jetstream::message::PublishMessage;
use tracing::{Span, field::Empty};

use super::{EventId, Subject};
use crate::telemetry::{SpanKind, TRACEPARENT, TRACESTATE, TraceContext, continue_trace};

/// The span an event is sent in, in the trace of what caused it; `None` if that was not traced.
pub(crate) fn publish_span(
    subject: Subject,
    id: &EventId,
    cause: Option<&TraceContext>,
) -> Option<Span> {
    let cause = cause?;
    let span = tracing::info_span!(
        "publish", %subject, event_id = %id, otel.name = Empty, otel.kind = Empty,
    );
    continue_trace(
        &span,
        SpanKind::Producer,
        format_args!("publish {subject}"),
        Some(cause),
    );
    Some(span)
}

/// `message` with the headers that carry `span`'s trace to the event's consumers.
pub(crate) fn with_trace_headers(message: PublishMessage, span: &Span) -> PublishMessage {
    let Some(context) = TraceContext::of(span) else {
        return message;
    };
    let message = message.header(TRACEPARENT, context.traceparent.as_str());
    match &context.tracestate {
        Some(tracestate) => message.header(TRACESTATE, tracestate.as_str()),
        None => message,
    }
}

/// The span an event is handled in: in the trace its headers carry, or a new one without them.
pub(crate) fn process_span(
    subject: Subject,
    id: &EventId,
    delivered: i64,
    headers: Option<&async_nats::HeaderMap>,
) -> Span {
    let span = tracing::info_span!(
        "event", %subject, event_id = %id, delivered, otel.name = Empty, otel.kind = Empty,
    );
    continue_trace(
        &span,
        SpanKind::Consumer,
        format_args!("process {subject}"),
        TraceContext::from_nats(headers).as_ref(),
    );
    span
}
