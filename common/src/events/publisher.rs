use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use tracing::Instrument;

use super::{Envelope, Event, EventId, Names, Subject, trace};
use crate::{metrics, telemetry::TraceContext};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("serializing the event: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("publishing to JetStream: {0}")]
    Publish(#[from] jetstream::context::PublishError),
}

/// Publishes events and waits for JetStream's ack, with the event id as `Nats-Msg-Id`.
#[derive(Clone)]
pub struct Publisher {
    jetstream: jetstream::Context,
    names: Names,
}

impl Publisher {
    pub(crate) fn new(jetstream: jetstream::Context, names: Names) -> Self {
        Self { jetstream, names }
    }

    /// Publishes on `E`'s own subject, in the trace of the current span. Returns `true` if
    /// JetStream already had this id.
    pub async fn publish<E: Event>(&self, event: &Envelope<E>) -> Result<bool, PublishError> {
        let payload = serde_json::to_vec(event)?;
        let cause = TraceContext::current();
        self.publish_raw(E::SUBJECT, &event.id, Bytes::from(payload), cause.as_ref())
            .await
    }

    /// Publishes an already serialized envelope (the outbox stores them that way).
    pub(crate) async fn publish_raw(
        &self,
        subject: Subject,
        id: &EventId,
        payload: Bytes,
        cause: Option<&TraceContext>,
    ) -> Result<bool, PublishError> {
        self.send_raw(subject, id, payload, cause)
            .await?
            .confirmed()
            .await
    }

    /// Sends without waiting for JetStream's ack, so a batch costs one round trip rather than
    /// one per event. Sends on one connection reach the server in the order they were made.
    /// `cause` is the trace the event continues ([`trace`]).
    pub(crate) async fn send_raw(
        &self,
        subject: Subject,
        id: &EventId,
        payload: Bytes,
        cause: Option<&TraceContext>,
    ) -> Result<SentEvent, PublishError> {
        let mut message = PublishMessage::build()
            .payload(payload)
            .message_id(id.as_str());
        let span = trace::publish_span(subject, id, cause);
        if let Some(span) = &span {
            message = trace::with_trace_headers(message, span);
        }
        let wire_subject = self.names.subject(subject);
        let ack = self
            .jetstream
            .send_publish(wire_subject.clone(), message)
            .instrument(span.unwrap_or_else(tracing::Span::none))
            .await?;
        Ok(SentEvent {
            subject,
            wire_subject,
            id: id.clone(),
            ack,
        })
    }
}

/// An event on its way to JetStream; it counts as published only once confirmed.
pub(crate) struct SentEvent {
    subject: Subject,
    /// With the events prefix: what the published-events metric is labelled by.
    wire_subject: String,
    id: EventId,
    ack: PublishAckFuture,
}

impl SentEvent {
    /// Waits for the stream's ack. Returns `true` if JetStream already had this id.
    pub(crate) async fn confirmed(self) -> Result<bool, PublishError> {
        let Self {
            subject,
            wire_subject,
            id,
            ack,
        } = self;
        let ack = ack.await?;
        if ack.duplicate {
            tracing::debug!(%subject, event_id = %id, "JetStream dropped a duplicate publish");
        } else {
            tracing::debug!(%subject, event_id = %id, sequence = ack.sequence, "event published");
            metrics::event_published(&wire_subject);
        }
        Ok(ack.duplicate)
    }
}
