//! The listening half of the bus, written once: a durable pull consumer per (service, subject),
//! explicit acks after the handler's effect is durable, naks with a delay for retries, `Term`
//! for poison messages, and a clean stop on shutdown that loses nothing in flight.
//!
//! Up to [`ListenerOptions::concurrency`] events are held at once. Events with the same
//! [`Event::ordering_key`] run one after another in delivery order (a ticket's v1 waits for its
//! v0); different keys run at once. A pull for more is opened whenever there is room, so work
//! flows in as handlers finish instead of batch by batch.
//!
//! One job per module: this one holds the contract (the [`Listener`] trait, its errors and
//! options) and the loop that ties the others together; [`puller`] keeps a pull request open
//! while there is room, [`in_flight`] holds the events and runs each key's in order, and
//! [`settle`] runs one handler and acks, naks or terminates its message by the outcome (and
//! counts it, [`crate::metrics`]); [`state`] reports what the consumer holds.

mod in_flight;
mod puller;
mod settle;
mod state;

use std::{future::Future, time::Duration};

use anyhow::Context;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use tokio::time::MissedTickBehavior;
use tokio_util::{sync::CancellationToken, task::AbortOnDropHandle};

use self::{
    in_flight::InFlight,
    puller::{Pulled, Puller},
};
use super::{Envelope, Event, EventBus};
use crate::config::EventsConfig;

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

/// A service's reaction to one event type. Calls for different ordering keys overlap, so a
/// handler must be safe to run concurrently with itself (the version checks make it so).
pub trait Listener: Send + Sync + 'static {
    type Event: Event;

    fn handle(
        &self,
        event: Envelope<Self::Event>,
    ) -> impl Future<Output = Result<(), HandleError>> + Send;
}

/// How a consumer runs and retries; the defaults suit every service.
#[derive(Debug, Clone)]
pub struct ListenerOptions {
    /// Unacked for this long, a message is redelivered (the consumer crashed mid-handler).
    /// A handler that runs longer keeps its message with progress acks every third of it.
    pub ack_wait: Duration,
    /// After this many deliveries a message is given up on (and logged with its content). With
    /// the back-off below that is hours of retries: long enough to outlast any outage we expect.
    pub max_deliver: i64,
    /// Events held at once: running, or waiting behind an event with the same ordering key.
    pub concurrency: usize,
    /// The first pause of the back-off ([`crate::retry`]) before a failed message comes back,
    /// or a failed pull is tried again; an early message's first pause is a fifth of it.
    pub retry_delay: Duration,
    /// How often the consumer's pending and redelivered counts are read for the metrics
    /// ([`state`]): as often as Prometheus scrapes.
    pub state_every: Duration,
}

impl Default for ListenerOptions {
    fn default() -> Self {
        EventsConfig::default().into()
    }
}

impl From<EventsConfig> for ListenerOptions {
    fn from(config: EventsConfig) -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 1_000,
            concurrency: config.concurrency,
            retry_delay: Duration::from_millis(500),
            state_every: Duration::from_secs(15),
        }
    }
}

impl ListenerOptions {
    /// A third of ack_wait: one lost progress ack still leaves time for the next.
    pub(super) fn progress_every(&self) -> Duration {
        (self.ack_wait / 3).max(Duration::from_millis(100))
    }

    /// At least one, or nothing would ever be pulled.
    pub(super) fn held_at_most(&self) -> usize {
        self.concurrency.max(1)
    }

    /// The consumer-wide cap on unacked messages, shared by every replica: room for several
    /// replicas to each hold their full concurrency.
    fn max_ack_pending(&self) -> i64 {
        let per_replica = i64::try_from(self.held_at_most()).unwrap_or(i64::MAX);
        per_replica.saturating_mul(8).max(1_000)
    }
}

/// Creates (or updates) the durable consumer and handles its events until `shutdown`, then
/// hands back what it had not started and finishes what it had.
pub async fn listen<L: Listener>(
    bus: &EventBus,
    service: &str,
    listener: L,
    options: ListenerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let consumer = durable_consumer::<L::Event>(bus, service, &options).await?;
    let durable = bus.names().durable(service, <L::Event as Event>::SUBJECT);
    tracing::info!(%durable, concurrency = options.held_at_most(), "listening");
    let _reporting = AbortOnDropHandle::new(tokio::spawn(state::report(
        consumer.clone(),
        options.state_every,
    )));
    let mut puller = Puller::<L::Event>::new(bus, service, consumer, &options);
    let mut held = InFlight::new(listener, options.clone());
    let mut progress = tokio::time::interval(options.progress_every());
    progress.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let room = held.room();
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(done) = held.join_next() => held.finished(done),
            _ = progress.tick() => held.keep_waiting_alive().await,
            pulled = puller.next(room) => match pulled {
                Pulled::Message(message) => held.admit(*message).await,
                Pulled::Control(control) => puller.settle(control, &shutdown).await,
            },
        }
    }
    puller.release_unstarted().await;
    held.stop().await;
    tracing::info!(%durable, "listener stopped");
    Ok(())
}

pub(super) async fn durable_consumer<E: Event>(
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
        max_ack_pending: options.max_ack_pending(),
        ..Default::default()
    };
    // create_consumer creates or updates, so a changed setting takes effect on the next start.
    bus.jetstream()
        .create_consumer_on_stream(config, names.stream())
        .await
        .with_context(|| format!("creating the durable consumer {durable}"))
}
