use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use ticketing_common::{
    domain::{Money, TicketId, UserId, Version},
    events::{Envelope, EventBus, HandleError, Listener, ListenerOptions, TicketCreated, listen},
    telemetry, testing,
};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

pub async fn bus() -> EventBus {
    telemetry::init_for_tests();
    EventBus::connect(&testing::nats_config())
        .await
        .expect("NATS is reachable")
}

pub fn ticket_created(title: &str) -> Envelope<TicketCreated> {
    Envelope::new(TicketCreated {
        id: TicketId::new(),
        version: Version::INITIAL,
        title: title.to_owned(),
        price: Money::from_cents(1999).expect("valid"),
        user_id: UserId::new(),
    })
}

/// Fast retries so the tests see redeliveries quickly.
pub fn quick_options() -> ListenerOptions {
    ListenerOptions {
        ack_wait: Duration::from_secs(2),
        retry_delay: Duration::from_millis(50),
        ..ListenerOptions::default()
    }
}

/// A listener that reports what it handled, tagged with which instance handled it.
#[derive(Clone)]
pub struct Recorder {
    pub tag: &'static str,
    pub sink: mpsc::UnboundedSender<(&'static str, Envelope<TicketCreated>)>,
    /// Fail this many deliveries before succeeding.
    pub failures_left: Arc<AtomicUsize>,
    /// Held while handling: a test can keep a handler "in flight".
    pub gate: Arc<Mutex<()>>,
    pub attempts: Arc<AtomicUsize>,
}

impl Recorder {
    pub fn new(
        tag: &'static str,
        sink: mpsc::UnboundedSender<(&'static str, Envelope<TicketCreated>)>,
    ) -> Self {
        Self {
            tag,
            sink,
            failures_left: Arc::new(AtomicUsize::new(0)),
            gate: Arc::new(Mutex::new(())),
            attempts: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Listener for Recorder {
    type Event = TicketCreated;

    async fn handle(&self, event: Envelope<TicketCreated>) -> Result<(), HandleError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let _held = self.gate.lock().await;
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failing {
            return Err(HandleError::Retry(anyhow::anyhow!("injected failure")));
        }
        self.sink
            .send((self.tag, event))
            .map_err(|_| HandleError::Retry(anyhow::anyhow!("test gone")))?;
        Ok(())
    }
}

/// Runs `listener` as service `service` until the returned token is cancelled.
pub fn spawn_listener<L: Listener>(
    bus: &EventBus,
    service: &'static str,
    listener: L,
    options: ListenerOptions,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let shutdown = CancellationToken::new();
    let bus = bus.clone();
    let token = shutdown.clone();
    let handle = tokio::spawn(async move { listen(&bus, service, listener, options, token).await });
    (shutdown, handle)
}

/// What has arrived so far, without waiting: after [`testing::wait_until_caught_up`] that is
/// everything the handlers will ever send, so a count of it proves "once" and "no more".
pub fn received<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Ok(item) = rx.try_recv() {
        out.push(item);
    }
    out
}

pub async fn stream_messages(bus: &EventBus) -> u64 {
    let mut stream = bus
        .jetstream()
        .get_stream(bus.names().stream())
        .await
        .expect("stream");
    stream.info().await.expect("stream info").state.messages
}

/// The first `count` messages of the test's stream, every subject, in stream order.
pub async fn stream_contents(bus: &EventBus, count: usize) -> Vec<(String, Bytes)> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
    use futures::StreamExt;
    let stream = bus
        .jetstream()
        .get_stream(bus.names().stream())
        .await
        .expect("the test stream");
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .expect("an ordered consumer");
    let mut messages = consumer.messages().await.expect("a message stream");
    let mut contents = Vec::with_capacity(count);
    while contents.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} messages in the stream", contents.len()))
            .expect("the stream goes on")
            .expect("a message");
        contents.push((message.subject.to_string(), message.payload.clone()));
    }
    contents
}
