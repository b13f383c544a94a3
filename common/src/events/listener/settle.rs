//! One event's handling: the handler runs (with progress acks while it is long, a panic caught
//! as a failed attempt), then its message is settled by the outcome — acked, naked with the
//! back-off's delay to come back, or terminated as poison.

use std::{future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use async_nats::jetstream::{AckKind, Message};
use futures::FutureExt;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use super::{HandleError, Listener, ListenerOptions, in_flight::Delivery};
use crate::{
    events::{Event, trace},
    metrics::{self, EventRetry, EventTermination},
    retry::Backoff,
};

/// The longest pause before an early event (its predecessor not handled yet) comes back: short,
/// the predecessor is usually a moment behind.
const EARLY_LONGEST: Duration = Duration::from_secs(2);
/// The longest pause before a failed event comes back: with `max_deliver` 1,000, hours of
/// retries in all.
const FAILED_LONGEST: Duration = Duration::from_secs(30);

/// Runs the handler (sending progress acks while it runs) and settles the message by outcome.
pub(super) async fn process<L: Listener>(
    listener: Arc<L>,
    options: ListenerOptions,
    delivery: Delivery<L::Event>,
) {
    let Delivery { message, envelope } = delivery;
    let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
    let series = Series::of(&message);
    // In the trace of whatever published the event, so what the handler causes stays in it.
    let span = trace::process_span(
        <L::Event as Event>::SUBJECT,
        &envelope.id,
        delivered,
        message.headers.as_ref(),
    );
    // A panicking handler is a failed attempt like any other: the event is retried, and the
    // listener (and the other events it holds) carry on.
    let handling = AssertUnwindSafe(listener.handle(envelope))
        .catch_unwind()
        .instrument(span.clone());
    let outcome = with_progress(&message, options.progress_every(), handling)
        .await
        .unwrap_or_else(|_| Err(HandleError::Retry(anyhow::anyhow!("the handler panicked"))));
    settle(&message, &options, &series, delivered, outcome)
        .instrument(span)
        .await;
}

/// The labels an event's settlement is counted under ([`metrics`]): its wire subject and the
/// durable consumer that delivered it.
pub(super) struct Series {
    subject: String,
    consumer: String,
}

impl Series {
    pub(super) fn of(message: &Message) -> Self {
        Self {
            subject: message.subject.to_string(),
            consumer: message
                .info()
                .map(|info| info.consumer.to_owned())
                .unwrap_or_default(),
        }
    }

    pub(super) fn terminated(&self, reason: EventTermination) {
        metrics::event_terminated(&self.subject, &self.consumer, reason);
    }
}

/// Awaits `work`, telling JetStream every `every` that the message is still being handled, so
/// a handler longer than ack_wait does not get its event redelivered to another replica.
async fn with_progress<F: Future>(message: &Message, every: Duration, work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            output = &mut work => return output,
            _ = ticks.tick() => ack(message, AckKind::Progress).await,
        }
    }
}

async fn settle(
    message: &Message,
    options: &ListenerOptions,
    series: &Series,
    delivered: i64,
    outcome: Result<(), HandleError>,
) {
    match outcome {
        Ok(()) => {
            tracing::debug!("event handled");
            ack(message, AckKind::Ack).await;
            metrics::event_handled(&series.subject, &series.consumer);
        }
        Err(HandleError::Early) => {
            tracing::debug!("event is early; it will come back");
            give_up_or_retry(message, options, series, delivered, true).await;
        }
        Err(HandleError::Retry(err)) => {
            tracing::warn!(error = %format!("{err:#}"), "handling failed; it will come back");
            give_up_or_retry(message, options, series, delivered, false).await;
        }
        Err(HandleError::Poison(err)) => {
            tracing::error!(
                error = %format!("{err:#}"), payload = %String::from_utf8_lossy(&message.payload),
                "event cannot be handled: terminated, it will not be redelivered"
            );
            ack(message, AckKind::Term).await;
            series.terminated(EventTermination::Poison);
        }
    }
}

async fn give_up_or_retry(
    message: &Message,
    options: &ListenerOptions,
    series: &Series,
    delivered: i64,
    early: bool,
) {
    if delivered >= options.max_deliver {
        tracing::error!(
            delivered, payload = %String::from_utf8_lossy(&message.payload),
            "last allowed delivery failed: JetStream gives up on this event"
        );
        series.terminated(EventTermination::MaxDeliver);
    } else {
        let reason = if early {
            EventRetry::Early
        } else {
            EventRetry::Failed
        };
        metrics::event_retried(&series.subject, &series.consumer, reason);
    }
    // Back off more on each delivery, by the fleet's policy: an early event soon has its
    // predecessor, a failing dependency (database down) may take a while.
    let failures = u64::try_from(delivered).unwrap_or(1);
    let delay = if early {
        Backoff::after(options.retry_delay / 5, EARLY_LONGEST, failures)
    } else {
        Backoff::after(options.retry_delay, FAILED_LONGEST, failures)
    };
    ack(message, AckKind::Nak(Some(delay))).await;
}

/// Hands a message back undelayed, so another replica (or the next start) takes it at once.
pub(super) async fn release(message: &Message) {
    if let Err(err) = message.ack_with(AckKind::Nak(None)).await {
        tracing::debug!(error = %err, "nak on shutdown failed; the event returns after ack_wait");
    }
}

pub(super) async fn ack(message: &Message, kind: AckKind) {
    if let Err(err) = message.ack_with(kind).await {
        // Without the ack the event is redelivered after ack_wait; handlers are idempotent.
        tracing::warn!(error = %err, "acknowledging an event failed");
    }
}
