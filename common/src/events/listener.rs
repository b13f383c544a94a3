//! The listening half of the bus, written once: a durable pull consumer per (service, subject),
//! explicit acks after the handler's effect is durable, naks with a delay for retries, `Term`
//! for poison messages, and a clean stop on shutdown that loses nothing in flight.

use std::{future::Future, time::Duration};

use anyhow::Context;
use async_nats::jetstream::{
    AckKind, Message,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Envelope, Event, EventBus};

/// Why a handler did not finish; decides what happens to the message.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// It came before the change it builds on (a version gap): try again shortly, no alarm.
    #[error("event arrived before the one it follows")]
    Early,
    /// Something failed that may work later (database down): nak with a delay.
    #[error("retryable failure: {0:#}")]
    Retry(anyhow::Error),
    /// The event can never be handled (it contradicts our data): log it and stop redelivery.
    #[error("unprocessable event: {0:#}")]
    Poison(anyhow::Error),
}

impl From<anyhow::Error> for HandleError {
    fn from(err: anyhow::Error) -> Self {
        Self::Retry(err)
    }
}

/// A service's reaction to one event type.
pub trait Listener: Send + Sync + 'static {
    type Event: Event;

    fn handle(
        &self,
        event: Envelope<Self::Event>,
    ) -> impl Future<Output = Result<(), HandleError>> + Send;
}

/// How a consumer retries; the defaults suit every service.
#[derive(Debug, Clone)]
pub struct ListenerOptions {
    /// Unacked for this long, a message is redelivered (the consumer crashed mid-handler).
    pub ack_wait: Duration,
    /// After this many deliveries a message is given up on (and logged with its content). With
    /// the back-off below that is hours of retries: long enough to outlast any outage we expect.
    pub max_deliver: i64,
    /// Messages pulled per request.
    pub batch: usize,
    /// Delay before a retried or early message comes back.
    pub retry_delay: Duration,
}

impl Default for ListenerOptions {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 1_000,
            batch: 64,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Creates (or updates) the durable consumer and handles its events until `shutdown`.
pub async fn listen<L: Listener>(
    bus: &EventBus,
    service: &str,
    listener: L,
    options: ListenerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut consumer = durable_consumer::<L::Event>(bus, service, &options).await?;
    let durable = bus.names().durable(service, <L::Event as Event>::SUBJECT);
    tracing::info!(%durable, "listening");
    let mut failures = 0_u32;
    while !shutdown.is_cancelled() {
        if failures > 0 {
            // NATS down, or the consumer gone (stream deleted): back off, and re-create the
            // consumer once in a while, which also tells whether the server is back.
            let delay = (options.retry_delay * failures.min(10)).min(Duration::from_secs(5));
            sleep_unless(&shutdown, delay).await;
            if failures.is_multiple_of(5) {
                match durable_consumer::<L::Event>(bus, service, &options).await {
                    Ok(fresh) => consumer = fresh,
                    Err(err) => {
                        tracing::warn!(%durable, error = %format!("{err:#}"), "re-creating the consumer failed")
                    }
                }
            }
        }
        let batch = consumer
            .batch()
            .max_messages(options.batch)
            .expires(Duration::from_secs(5))
            .messages();
        let mut batch = tokio::select! {
            batch = batch => match batch {
                Ok(batch) => batch,
                Err(err) => {
                    failures += 1;
                    tracing::warn!(%durable, error = %err, failures, "pulling events failed; retrying");
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        loop {
            let next = tokio::select! {
                next = batch.next() => next,
                () = shutdown.cancelled() => break,
            };
            match next {
                // The pull ran its course: the server is there.
                None => {
                    failures = 0;
                    break;
                }
                Some(Ok(message)) => {
                    failures = 0;
                    process(&listener, &options, message).await;
                }
                Some(Err(err)) => {
                    failures += 1;
                    tracing::warn!(%durable, error = %err, failures, "receiving events failed; retrying");
                    break;
                }
            }
        }
        if shutdown.is_cancelled() {
            release_unhandled(&mut batch).await;
        }
    }
    tracing::info!(%durable, "listener stopped");
    Ok(())
}

/// Hands back what was pulled but not started, so another replica takes it at once.
async fn release_unhandled(
    batch: &mut (impl futures::Stream<Item = Result<Message, impl std::fmt::Display>> + Unpin),
) {
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_millis(50), batch.next()).await
    {
        if let Err(err) = message.ack_with(AckKind::Nak(None)).await {
            tracing::debug!(error = %err, "nak on shutdown failed; the event returns after ack_wait");
        }
    }
}

async fn durable_consumer<E: Event>(
    bus: &EventBus,
    service: &str,
    options: &ListenerOptions,
) -> anyhow::Result<PullConsumer> {
    let names = bus.names();
    let durable = names.durable(service, E::SUBJECT);
    let config = pull::Config {
        durable_name: Some(durable.clone()),
        description: Some(format!("{service} handles {}", E::SUBJECT)),
        filter_subject: names.subject(E::SUBJECT),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ack_wait: options.ack_wait,
        max_deliver: options.max_deliver,
        max_ack_pending: 1_000,
        ..Default::default()
    };
    // create_consumer creates or updates, so a changed setting takes effect on the next start.
    bus.jetstream()
        .create_consumer_on_stream(config, names.stream())
        .await
        .with_context(|| format!("creating the durable consumer {durable}"))
}

async fn process<L: Listener>(listener: &L, options: &ListenerOptions, message: Message) {
    let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
    let subject = <L::Event as Event>::SUBJECT;
    let envelope: Envelope<L::Event> = match serde_json::from_slice(&message.payload) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::error!(
                %subject, error = %err, payload = %String::from_utf8_lossy(&message.payload),
                "malformed event: terminated, it will not be redelivered"
            );
            ack(&message, AckKind::Term).await;
            return;
        }
    };
    let event_id = envelope.id.clone();
    let span = tracing::info_span!("event", %subject, event_id = %event_id, delivered);
    let outcome = listener.handle(envelope).instrument(span.clone()).await;
    let _entered = span.enter();
    match outcome {
        Ok(()) => {
            tracing::debug!("event handled");
            ack(&message, AckKind::Ack).await;
        }
        Err(HandleError::Early) => {
            tracing::debug!("event is early; it will come back");
            give_up_or_retry(&message, options, delivered, true).await;
        }
        Err(HandleError::Retry(err)) => {
            tracing::warn!(error = %format!("{err:#}"), "handling failed; it will come back");
            give_up_or_retry(&message, options, delivered, false).await;
        }
        Err(HandleError::Poison(err)) => {
            tracing::error!(
                error = %format!("{err:#}"), payload = %String::from_utf8_lossy(&message.payload),
                "event cannot be handled: terminated, it will not be redelivered"
            );
            ack(&message, AckKind::Term).await;
        }
    }
}

async fn give_up_or_retry(
    message: &Message,
    options: &ListenerOptions,
    delivered: i64,
    early: bool,
) {
    if delivered >= options.max_deliver {
        tracing::error!(
            delivered, payload = %String::from_utf8_lossy(&message.payload),
            "last allowed delivery failed: JetStream gives up on this event"
        );
    }
    // Back off a little more on each delivery: an early event soon has its predecessor, a
    // failing dependency (database down) may take a while.
    let factor = u32::try_from(delivered.clamp(1, 1_000)).unwrap_or(1_000);
    let (step, cap) = if early {
        (options.retry_delay / 5, Duration::from_secs(5))
    } else {
        (options.retry_delay, Duration::from_secs(30))
    };
    ack(message, AckKind::Nak(Some((step * factor).min(cap)))).await;
}

async fn ack(message: &Message, kind: AckKind) {
    if let Err(err) = message.ack_with(kind).await {
        // Without the ack the event is redelivered after ack_wait; handlers are idempotent.
        tracing::warn!(error = %err, "acknowledging an event failed");
    }
}

async fn sleep_unless(shutdown: &CancellationToken, delay: Duration) {
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = shutdown.cancelled() => {}
    }
}
