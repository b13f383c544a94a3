//! Helpers for the services' black-box tests (feature `testing`): every test gets its own
//! database and its own event prefix, so tests run in parallel without seeing each other. Also
//! what tests wait on and count instead of sleeping: [`eventually`], [`wait_until_handled`] and
//! [`wait_until_caught_up`] (a listener's consumer has settled what it was given),
//! [`wait_until_relayed`] (the outbox is empty), [`published_count`] (what a stream holds)
//! and [`CommandLog`] (the round trips an operation makes); and an [`EventProbe`] to read events.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use mongodb::{
    Client, Database,
    event::{EventHandler, command::CommandEvent},
    options::ClientOptions,
};

use crate::config::{JwtKey, MongoConfig, SessionConfig};

/// The key every test app signs sessions with, so tests can forge tokens to probe the checks.
pub const TEST_JWT_KEY: &str = "test-jwt-key-that-is-at-least-32-bytes-long";

/// `name_<uuid>`: unique across concurrent tests and runs.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh database on the test MongoDB server (`TEST_MONGO_URI`, default the local FerretDB).
pub fn mongo_config() -> MongoConfig {
    MongoConfig {
        uri: std::env::var("TEST_MONGO_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into()),
        database: unique_name("test"),
    }
}

pub fn session_config(ttl: Duration, secure_cookies: bool) -> SessionConfig {
    SessionConfig {
        jwt_key: jwt_key(),
        ttl,
        secure_cookies,
    }
}

pub fn jwt_key() -> JwtKey {
    match JwtKey::parse(TEST_JWT_KEY.to_owned()) {
        Ok(key) => key,
        Err(err) => unreachable!("the test key is long enough: {err}"),
    }
}

/// The commands a connection sent, by name (`insert`, `find`, `delete`, …): each one is a round
/// trip to the database, so a test can hold an operation to its budget.
#[derive(Clone, Default)]
pub struct CommandLog(Arc<Mutex<Vec<String>>>);

impl CommandLog {
    /// The commands sent since the last call, oldest first.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, command: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(command);
    }
}

/// A connection to `config`'s database whose every command is written to the returned log
/// (connection handshakes and session bookkeeping aside: they are not part of an operation).
pub async fn counted_database(config: &MongoConfig) -> (Database, CommandLog) {
    let log = CommandLog::default();
    let mut options = ClientOptions::parse(&config.uri)
        .await
        .expect("a valid test MongoDB URI");
    let recorder = log.clone();
    options.command_event_handler = Some(EventHandler::callback(move |event| {
        if let CommandEvent::Started(started) = event
            && !matches!(
                started.command_name.as_str(),
                "hello" | "isMaster" | "ismaster" | "endSessions"
            )
        {
            recorder.record(started.command_name);
        }
    }));
    let client = Client::with_options(options).expect("a MongoDB client");
    (client.database(&config.database), log)
}

/// The test NATS server (`TEST_NATS_URL`, default the local one) with a fresh events prefix.
pub fn nats_config() -> crate::config::NatsConfig {
    crate::config::NatsConfig {
        url: std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
        client_name: "ticketing-tests".into(),
        events_prefix: Some(unique_name("t")),
    }
}

/// Polls `check` (every 25 ms, by [`crate::poll::until`]) until it yields a value or `deadline`
/// passes: assertions about asynchronous effects wait for them rather than sleeping a fixed time.
pub async fn eventually<T>(deadline: Duration, check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    crate::poll::until(deadline, Duration::from_millis(25), check).await
}

/// Waits until `service`'s listener of `subject` has handled `count` events: its durable
/// consumer has nothing left to deliver, nothing delivered and unacked (a retried event is
/// unacked until it succeeds), and at least `count` deliveries acked. Use it wherever a test
/// waits for a listener: before asserting that an event changed something, and above all before
/// asserting that it changed nothing — a sleep proves neither. Panics after 20 s.
pub async fn wait_until_handled(
    bus: &crate::events::EventBus,
    service: &str,
    subject: crate::events::Subject,
    count: u64,
) {
    let what = format!("handle {count} {subject} events");
    wait_for_consumer(bus, service, subject, &what, |info, _| {
        info.num_pending == 0
            && info.num_ack_pending == 0
            && info.ack_floor.consumer_sequence >= count
    })
    .await;
}

/// Waits until `service`'s listener of `subject` has handled everything its stream holds so
/// far: nothing left to deliver, nothing unacked, and its ack floor at the stream's last message
/// (an event deferred for a later retry holds the floor back). For tests that publish events
/// themselves and do not count them. Panics after 20 s.
pub async fn wait_until_caught_up(
    bus: &crate::events::EventBus,
    service: &str,
    subject: crate::events::Subject,
) {
    let what = "handle every event in the stream";
    wait_for_consumer(bus, service, subject, what, |info, last| {
        info.num_pending == 0 && info.num_ack_pending == 0 && info.ack_floor.stream_sequence >= last
    })
    .await;
}

/// Waits until no document of `collection` holds unpublished events (held ones included), so
/// the relay has published everything written so far and will publish nothing more of it:
/// after this, [`published_count`] is final. Panics after 20 s.
pub async fn wait_until_relayed(collection: &mongodb::Collection<mongodb::bson::Document>) {
    let pending = mongodb::bson::doc! { crate::events::outbox::PENDING_FIELD: true };
    let relayed = eventually(Duration::from_secs(20), async || {
        let left = collection.count_documents(pending.clone()).await.ok()?;
        (left == 0).then_some(())
    })
    .await;
    if relayed.is_none() {
        panic!(
            "{} still holds unpublished events after 20 s",
            collection.name()
        );
    }
}

/// Waits until `service`'s consumer of `subject` has made `deliveries` deliveries, redeliveries
/// included. For an event its listener defers (early: it waits for another), a redelivery proves
/// the first delivery was handled and deferred — the fact to wait for before asserting that it
/// has not been applied. Panics after 20 s.
pub async fn wait_until_delivered(
    bus: &crate::events::EventBus,
    service: &str,
    subject: crate::events::Subject,
    deliveries: u64,
) {
    let what = format!("make {deliveries} deliveries of {subject}");
    wait_for_consumer(bus, service, subject, &what, |info, _| {
        info.delivered.consumer_sequence >= deliveries
    })
    .await;
}

async fn wait_for_consumer(
    bus: &crate::events::EventBus,
    service: &str,
    subject: crate::events::Subject,
    what: &str,
    done: impl Fn(&async_nats::jetstream::consumer::Info, u64) -> bool,
) {
    let names = bus.names();
    let durable = names.durable(service, subject);
    let stream = bus
        .jetstream()
        .get_stream(names.stream())
        .await
        .expect("the test stream");
    let reached = eventually(Duration::from_secs(20), async || {
        // The stream's last sequence, then the consumer (none yet: the listener has not started).
        let last = stream.clone().info().await.ok()?.state.last_sequence;
        let info = stream.consumer_info(&durable).await.ok()?;
        done(&info, last).then_some(())
    })
    .await;
    if reached.is_none() {
        panic!("{durable} did not {what} within 20 s");
    }
}

/// How many events the test's stream holds on `subject`, now. Once nothing that could publish
/// more is left (the job done, the handler acked and the state it wrote unchanged — a write and
/// its events are one), this is final: a test proves "published once" or "not at all" with it
/// rather than by waiting for a quiet moment.
pub async fn published_count(
    bus: &crate::events::EventBus,
    subject: crate::events::Subject,
) -> u64 {
    use futures::TryStreamExt;
    let names = bus.names();
    let stream = bus
        .jetstream()
        .get_stream(names.stream())
        .await
        .expect("the test stream");
    let filter = names.subject(subject);
    let mut counts = stream
        .info_with_subjects(&filter)
        .await
        .expect("stream info");
    let mut total = 0;
    while let Some((_, count)) = counts.try_next().await.expect("stream subjects") {
        total += count as u64;
    }
    total
}

/// Everything published on one subject of a test's bus, from the start of its stream.
pub struct EventProbe<E> {
    messages: async_nats::jetstream::consumer::pull::Ordered,
    _event: std::marker::PhantomData<E>,
}

impl<E: crate::events::Event> EventProbe<E> {
    pub async fn new(bus: &crate::events::EventBus) -> Self {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
        let names = bus.names();
        let stream = bus
            .jetstream()
            .get_stream(names.stream())
            .await
            .expect("the test stream exists");
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: names.subject(E::SUBJECT),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .expect("an ordered consumer");
        Self {
            messages: consumer.messages().await.expect("a message stream"),
            _event: std::marker::PhantomData,
        }
    }

    /// The next event, or `None` if none comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<crate::events::Envelope<E>> {
        use futures::StreamExt;
        let message = tokio::time::timeout(wait, self.messages.next())
            .await
            .ok()??
            .ok()?;
        Some(serde_json::from_slice(&message.payload).expect("a well-formed event"))
    }

    /// The next event; panics if none comes within 5 s.
    pub async fn next(&mut self) -> crate::events::Envelope<E> {
        self.next_within(Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("no {} event within 5 s", E::SUBJECT))
    }
}

/// A `Cookie` header value that signs `user` in, as a browser would send it.
pub fn session_cookie(sessions: &crate::session::Sessions, user: crate::domain::UserId) -> String {
    let claims = sessions.claims_for(user, format!("{user}@example.com"));
    match sessions.sign(&claims) {
        Ok(token) => format!("{}={token}", crate::session::COOKIE_NAME),
        Err(err) => panic!("signing a test session: {err}"),
    }
}
