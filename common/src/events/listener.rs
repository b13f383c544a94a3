//! The listening half of the bus, written once: a durable pull consumer per (service, subject),
//! explicit acks after the handler's effect is durable, naks with a delay for retries, `Term`
//! for poison messages, and a clean stop on shutdown that loses nothing in flight.
//!
//! Up to [`ListenerOptions::concurrency`] events are held at once. Events with the same
//! [`Event::ordering_key`] run one after another in delivery order (a ticket's v1 waits for its
//! v0); different keys run at once. A pull for more is opened whenever there is room, so work
//! flows in as handlers finish instead of batch by batch.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    panic::AssertUnwindSafe,
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use async_nats::jetstream::{
    AckKind, Message,
    consumer::{
        AckPolicy, DeliverPolicy, PullConsumer,
        pull::{self, Batch},
    },
};
use futures::{FutureExt, StreamExt};
use tokio::{
    task::{self, JoinError, JoinSet},
    time::{Instant, MissedTickBehavior},
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

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
    /// Delay before a retried or early message comes back.
    pub retry_delay: Duration,
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
        }
    }
}

impl ListenerOptions {
    /// A third of ack_wait: one lost progress ack still leaves time for the next.
    fn progress_every(&self) -> Duration {
        (self.ack_wait / 3).max(Duration::from_millis(100))
    }

    /// At least one, or nothing would ever be pulled.
    fn held_at_most(&self) -> usize {
        self.concurrency.max(1)
    }

    /// The consumer-wide cap on unacked messages, shared by every replica: room for several
    /// replicas to each hold their full concurrency.
    fn max_ack_pending(&self) -> i64 {
        let per_replica = i64::try_from(self.held_at_most()).unwrap_or(i64::MAX);
        per_replica.saturating_mul(8).max(1_000)
    }
}

/// How long one pull request waits for messages before it is renewed.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

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

/// What waiting on the puller gave.
enum Pulled {
    /// Boxed: a message is large and is moved on at once.
    Message(Box<Message>),
    Control(Control),
}

/// Something the puller must act on before the next message can come.
enum Control {
    /// The pull request got its messages or expired: open the next one.
    Ended,
    Failed(String),
    /// No pull is open and there is room for this many more messages.
    Room(usize),
}

/// Keeps one pull request open while there is room, asking for no more than the room, so the
/// messages held never exceed the concurrency.
struct Puller<E> {
    bus: EventBus,
    service: String,
    options: ListenerOptions,
    durable: String,
    consumer: PullConsumer,
    batch: Option<Batch>,
    failures: u32,
    retry_at: Instant,
    _event: std::marker::PhantomData<E>,
}

impl<E: Event> Puller<E> {
    fn new(
        bus: &EventBus,
        service: &str,
        consumer: PullConsumer,
        options: &ListenerOptions,
    ) -> Self {
        Self {
            bus: bus.clone(),
            service: service.to_owned(),
            options: options.clone(),
            durable: bus.names().durable(service, E::SUBJECT),
            consumer,
            batch: None,
            failures: 0,
            retry_at: Instant::now(),
            _event: std::marker::PhantomData,
        }
    }

    /// Cancel-safe (it only waits on the open pull or a timer), so it can sit in a `select!`;
    /// opening a pull happens in [`Puller::settle`], which is not interrupted halfway.
    async fn next(&mut self, room: usize) -> Pulled {
        match &mut self.batch {
            Some(batch) => match batch.next().await {
                Some(Ok(message)) => Pulled::Message(Box::new(message)),
                Some(Err(err)) => Pulled::Control(Control::Failed(err.to_string())),
                None => Pulled::Control(Control::Ended),
            },
            None if room > 0 => {
                tokio::time::sleep_until(self.retry_at).await;
                Pulled::Control(Control::Room(room))
            }
            None => std::future::pending().await,
        }
    }

    async fn settle(&mut self, control: Control, shutdown: &CancellationToken) {
        match control {
            // The pull ran its course: the server is there.
            Control::Ended => {
                self.failures = 0;
                self.batch = None;
            }
            Control::Failed(err) => self.failed("receiving events", &err, shutdown).await,
            Control::Room(room) => self.open(room, shutdown).await,
        }
    }

    async fn open(&mut self, room: usize, shutdown: &CancellationToken) {
        let opened = self
            .consumer
            .batch()
            .max_messages(room)
            .expires(PULL_EXPIRES)
            .messages()
            .await;
        match opened {
            Ok(batch) => self.batch = Some(batch),
            Err(err) => {
                self.failed("pulling events", &err.to_string(), shutdown)
                    .await
            }
        }
    }

    /// NATS down, or the consumer gone (stream deleted): back off, and re-create the consumer
    /// once in a while, which also tells whether the server is back.
    async fn failed(&mut self, doing: &str, err: &str, shutdown: &CancellationToken) {
        self.batch = None;
        self.failures += 1;
        let failures = self.failures;
        tracing::warn!(durable = %self.durable, error = %err, failures, "{doing} failed; retrying");
        let delay = (self.options.retry_delay * failures.min(10)).min(Duration::from_secs(5));
        self.retry_at = Instant::now() + delay;
        if failures.is_multiple_of(5) {
            tokio::select! {
                fresh = durable_consumer::<E>(&self.bus, &self.service, &self.options) => match fresh {
                    Ok(fresh) => self.consumer = fresh,
                    Err(err) => tracing::warn!(durable = %self.durable, error = %format!("{err:#}"), "re-creating the consumer failed"),
                },
                () = shutdown.cancelled() => {}
            }
        }
    }

    /// Hands back what the open pull still delivers, so another replica takes it at once.
    async fn release_unstarted(&mut self) {
        let Some(batch) = self.batch.as_mut() else {
            return;
        };
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(50), batch.next()).await
        {
            release(&message).await;
        }
    }
}

/// A message with its decoded event.
struct Delivery<E> {
    message: Message,
    envelope: Envelope<E>,
}

/// The events held: running in their own tasks, or waiting behind their key's running one.
struct InFlight<L: Listener> {
    listener: Arc<L>,
    options: ListenerOptions,
    running: JoinSet<()>,
    keys: HashMap<task::Id, String>,
    /// One entry per key with a running handler: the key's next events, in delivery order.
    waiting: HashMap<String, VecDeque<Delivery<L::Event>>>,
    held: usize,
}

impl<L: Listener> InFlight<L> {
    fn new(listener: L, options: ListenerOptions) -> Self {
        Self {
            listener: Arc::new(listener),
            options,
            running: JoinSet::new(),
            keys: HashMap::new(),
            waiting: HashMap::new(),
            held: 0,
        }
    }

    fn room(&self) -> usize {
        self.options.held_at_most().saturating_sub(self.held)
    }

    /// `None` at once when nothing runs, which disables its `select!` branch for that round.
    async fn join_next(&mut self) -> Option<Result<(task::Id, ()), JoinError>> {
        self.running.join_next_with_id().await
    }

    async fn admit(&mut self, message: Message) {
        let Some(delivery) = decode::<L::Event>(message).await else {
            return;
        };
        self.held += 1;
        let key = delivery.envelope.data.ordering_key();
        match self.waiting.get_mut(&key) {
            Some(queue) => queue.push_back(delivery),
            None => {
                self.waiting.insert(key.clone(), VecDeque::new());
                self.start(key, delivery);
            }
        }
    }

    fn start(&mut self, key: String, delivery: Delivery<L::Event>) {
        let task = self.running.spawn(process(
            self.listener.clone(),
            self.options.clone(),
            delivery,
        ));
        self.keys.insert(task.id(), key);
    }

    /// A handler finished (its message is settled): its key's next event may start.
    fn finished(&mut self, done: Result<(task::Id, ()), JoinError>) {
        self.held = self.held.saturating_sub(1);
        let id = match done {
            Ok((id, ())) => id,
            Err(err) => {
                // Only an abort gets here (panics are caught in `process`); the message comes
                // back after ack_wait.
                tracing::error!(error = %err, "an event handler task did not finish");
                err.id()
            }
        };
        let Some(key) = self.keys.remove(&id) else {
            return;
        };
        match self.waiting.get_mut(&key).and_then(VecDeque::pop_front) {
            Some(next) => self.start(key, next),
            None => {
                self.waiting.remove(&key);
            }
        }
    }

    /// Events waiting behind their key count against ack_wait too: tell JetStream they are
    /// still ours, or a long-running predecessor would get them redelivered elsewhere.
    async fn keep_waiting_alive(&self) {
        for delivery in self.waiting.values().flatten() {
            ack(&delivery.message, AckKind::Progress).await;
        }
    }

    /// On shutdown: hand back what has not started, let what runs finish and settle.
    async fn stop(&mut self) {
        for (_, queue) in self.waiting.drain() {
            for delivery in queue {
                release(&delivery.message).await;
                self.held = self.held.saturating_sub(1);
            }
        }
        while let Some(done) = self.running.join_next_with_id().await {
            self.finished(done);
        }
    }
}

/// The event of a message, or `None` for a malformed one, which is terminated: it can never
/// be handled, and redelivering it would only fill the log.
async fn decode<E: Event>(message: Message) -> Option<Delivery<E>> {
    match serde_json::from_slice(&message.payload) {
        Ok(envelope) => Some(Delivery { message, envelope }),
        Err(err) => {
            tracing::error!(
                subject = %E::SUBJECT, error = %err, payload = %String::from_utf8_lossy(&message.payload),
                "malformed event: terminated, it will not be redelivered"
            );
            ack(&message, AckKind::Term).await;
            None
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
        max_ack_pending: options.max_ack_pending(),
        ..Default::default()
    };
    // create_consumer creates or updates, so a changed setting takes effect on the next start.
    bus.jetstream()
        .create_consumer_on_stream(config, names.stream())
        .await
        .with_context(|| format!("creating the durable consumer {durable}"))
}

/// Runs the handler (sending progress acks while it runs) and settles the message by outcome.
async fn process<L: Listener>(
    listener: Arc<L>,
    options: ListenerOptions,
    delivery: Delivery<L::Event>,
) {
    let Delivery { message, envelope } = delivery;
    let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
    let span = tracing::info_span!(
        "event", subject = %<L::Event as Event>::SUBJECT, event_id = %envelope.id, delivered
    );
    // A panicking handler is a failed attempt like any other: the event is retried, and the
    // listener (and the other events it holds) carry on.
    let handling = AssertUnwindSafe(listener.handle(envelope))
        .catch_unwind()
        .instrument(span.clone());
    let outcome = with_progress(&message, options.progress_every(), handling)
        .await
        .unwrap_or_else(|_| Err(HandleError::Retry(anyhow::anyhow!("the handler panicked"))));
    settle(&message, &options, delivered, outcome)
        .instrument(span)
        .await;
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
    delivered: i64,
    outcome: Result<(), HandleError>,
) {
    match outcome {
        Ok(()) => {
            tracing::debug!("event handled");
            ack(message, AckKind::Ack).await;
        }
        Err(HandleError::Early) => {
            tracing::debug!("event is early; it will come back");
            give_up_or_retry(message, options, delivered, true).await;
        }
        Err(HandleError::Retry(err)) => {
            tracing::warn!(error = %format!("{err:#}"), "handling failed; it will come back");
            give_up_or_retry(message, options, delivered, false).await;
        }
        Err(HandleError::Poison(err)) => {
            tracing::error!(
                error = %format!("{err:#}"), payload = %String::from_utf8_lossy(&message.payload),
                "event cannot be handled: terminated, it will not be redelivered"
            );
            ack(message, AckKind::Term).await;
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

/// Hands a message back undelayed, so another replica (or the next start) takes it at once.
async fn release(message: &Message) {
    if let Err(err) = message.ack_with(AckKind::Nak(None)).await {
        tracing::debug!(error = %err, "nak on shutdown failed; the event returns after ack_wait");
    }
}

async fn ack(message: &Message, kind: AckKind) {
    if let Err(err) = message.ack_with(kind).await {
        // Without the ack the event is redelivered after ack_wait; handlers are idempotent.
        tracing::warn!(error = %err, "acknowledging an event failed");
    }
}
