//! The pulling side of a listener: one pull request open while there is room for more events,
//! asking for no more than that room; back-off and a fresh consumer when NATS fails it.

use std::time::Duration;

use async_nats::jetstream::{
    Message,
    consumer::{PullConsumer, pull::Batch},
};
use futures::StreamExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ListenerOptions, durable_consumer, settle::release};
use crate::{
    events::{Event, EventBus},
    retry::Backoff,
};

/// How long one pull request waits for messages before it is renewed.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
/// The longest pause between attempts to pull while NATS fails them.
const RETRY_LONGEST: Duration = Duration::from_secs(5);
/// Every this many failures in a row, the consumer is created again (the stream may be new).
const RECREATE_EVERY: u32 = 5;

/// What waiting on the puller gave.
pub(super) enum Pulled {
    /// Boxed: a message is large and is moved on at once.
    Message(Box<Message>),
    Control(Control),
}

/// Something the puller must act on before the next message can come.
pub(super) enum Control {
    /// The pull request got its messages or expired: open the next one.
    Ended,
    Failed(String),
    /// No pull is open and there is room for this many more messages.
    Room(usize),
}

/// Keeps one pull request open while there is room, asking for no more than the room, so the
/// messages held never exceed the concurrency.
pub(super) struct Puller<E> {
    bus: EventBus,
    service: String,
    options: ListenerOptions,
    durable: String,
    consumer: PullConsumer,
    batch: Option<Batch>,
    failures: u32,
    backoff: Backoff,
    retry_at: Instant,
    _event: std::marker::PhantomData<E>,
}

impl<E: Event> Puller<E> {
    pub(super) fn new(
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
            backoff: Backoff::new(options.retry_delay, RETRY_LONGEST),
            retry_at: Instant::now(),
            _event: std::marker::PhantomData,
        }
    }

    /// Cancel-safe (it only waits on the open pull or a timer), so it can sit in a `select!`;
    /// opening a pull happens in [`Puller::settle`], which is not interrupted halfway.
    pub(super) async fn next(&mut self, room: usize) -> Pulled {
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

    pub(super) async fn settle(&mut self, control: Control, shutdown: &CancellationToken) {
        match control {
            // The pull ran its course: the server is there.
            Control::Ended => {
                self.failures = 0;
                self.backoff.reset();
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
        let delay = self.backoff.next_delay();
        tracing::warn!(
            durable = %self.durable, error = %err, failures, retry_in = ?delay,
            "{doing} failed; retrying"
        );
        self.retry_at = Instant::now() + delay;
        if failures.is_multiple_of(RECREATE_EVERY) {
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
    pub(super) async fn release_unstarted(&mut self) {
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
