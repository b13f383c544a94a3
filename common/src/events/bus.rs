//! The connection to NATS JetStream, the one stream every event goes to, and the names derived
//! from the events prefix.

use std::{collections::BTreeSet, time::Duration};

use anyhow::Context;
use async_nats::jetstream::{
    self, ErrorCode,
    context::{GetStreamError, GetStreamErrorKind},
    stream,
};
use futures::future::BoxFuture;

use super::{Publisher, Subject};
use crate::{
    config::{NatsConfig, StreamConfig},
    server::ReadinessProbe,
};

/// Stream, subject and consumer names. With a prefix `p`, subjects are `p.ticket.created` and
/// the stream is `p_EVENTS`, so parallel tests (or two fleets) never see each other's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: Option<String>,
}

impl Names {
    pub fn new(prefix: Option<String>) -> Self {
        Self { prefix }
    }

    pub fn subject(&self, subject: Subject) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}.{subject}"),
            None => subject.to_string(),
        }
    }

    /// The catalogue subject a wire subject stands for, if it is one of ours.
    pub fn parse_subject(&self, wire: &str) -> Option<Subject> {
        let bare = match &self.prefix {
            Some(prefix) => wire.strip_prefix(prefix.as_str())?.strip_prefix('.')?,
            None => wire,
        };
        Subject::parse(bare)
    }

    pub fn stream(&self) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}_EVENTS"),
            None => "EVENTS".to_owned(),
        }
    }

    /// One durable consumer per (service, subject): `orders-ticket-created`.
    pub fn durable(&self, service: &str, subject: Subject) -> String {
        format!("{service}-{}", subject.as_str().replace('.', "-"))
    }
}

/// A JetStream connection: it reaches NATS in the background and again after every loss.
#[derive(Clone)]
pub struct EventBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    names: Names,
}

impl EventBus {
    /// How long JetStream remembers a `Nats-Msg-Id` to drop re-publishes.
    pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
    /// Events are kept this long, so a consumer that was down for a while can catch up.
    pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);
    /// Longest pause between two attempts to reach NATS (the client's default is 4 s): a service
    /// sees NATS back within about a second of it answering.
    const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

    /// The connection, without waiting for NATS: the client connects in the background (for as
    /// long as it takes) and reconnects after every loss; [`EventBus::check_connected`] tells
    /// whether it is connected now. Fails only for a URL the client cannot use. `NATS_URL` may
    /// name several nodes of a cluster, separated by commas.
    pub async fn open(config: &NatsConfig) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name(&config.client_name)
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .reconnect_delay_callback(|attempts| {
                let exponent = u32::try_from(attempts).unwrap_or(u32::MAX);
                Duration::from_millis(2_u64.saturating_pow(exponent)).min(Self::MAX_RECONNECT_DELAY)
            })
            .event_callback(|event| async move {
                match event {
                    // One per failed reconnection attempt (every second while NATS is away),
                    // which the client logs itself: what is awaited is said once per attempt
                    // by whoever waits.
                    async_nats::Event::ClientError(_) => {
                        tracing::debug!(%event, "nats connection event");
                    }
                    _ => tracing::info!(%event, "nats connection event"),
                }
            })
            // A cluster is a comma-separated list; the client also learns the other nodes from
            // the one it reaches, and moves to another when its node goes away.
            .connect(config.url.split(',').map(str::trim).collect::<Vec<_>>())
            .await
            .with_context(|| {
                format!(
                    "connecting to NATS at {}",
                    crate::config::redact(&config.url)
                )
            })?;
        Ok(Self {
            jetstream: jetstream::new(client.clone()),
            client,
            names: Names::new(config.events_prefix.clone()),
        })
    }

    /// For tools and tests: [`EventBus::open`], then the stream is created if it does not exist
    /// (which waits for NATS up to JetStream's request timeout). An existing stream is left as it
    /// is: only the services apply their configuration to it ([`EventBus::ensure_stream`]), so a
    /// tool run without their settings never changes it.
    pub async fn connect(config: &NatsConfig) -> anyhow::Result<Self> {
        let bus = Self::open(config).await?;
        let wanted = bus.stream_config(&StreamConfig::default());
        let name = wanted.name.clone();
        bus.jetstream
            .get_or_create_stream(wanted)
            .await
            .with_context(|| format!("creating the JetStream stream {name}"))?;
        Ok(bus)
    }

    /// Creates the stream capturing every catalogue subject, or brings an existing one in line:
    /// if its subjects, retention, duplicate window or replicas differ from what `settings` and
    /// the fleet need, it is updated and the change logged (`get_or_create_stream` would keep an
    /// old configuration without a word). What the fleet does not set (limits an operator added)
    /// is kept. One attempt: a service's start-up retries it until NATS answers.
    pub async fn ensure_stream(&self, settings: &StreamConfig) -> anyhow::Result<()> {
        let wanted = self.stream_config(settings);
        let name = wanted.name.clone();
        match self.jetstream.get_stream(&name).await {
            Ok(existing) => {
                let current = &existing.cached_info().config;
                let changes = differences(current, &wanted);
                if changes.is_empty() {
                    return Ok(());
                }
                let changes = changes.join(", ");
                let updated = stream::Config {
                    subjects: wanted.subjects,
                    retention: wanted.retention,
                    max_age: wanted.max_age,
                    duplicate_window: wanted.duplicate_window,
                    num_replicas: wanted.num_replicas,
                    ..current.clone()
                };
                self.jetstream
                    .update_stream(&updated)
                    .await
                    .with_context(|| format!("updating the JetStream stream {name} ({changes})"))?;
                tracing::warn!(stream = %name, %changes, "event stream configuration updated");
            }
            Err(err) if is_not_found(&err) => {
                self.jetstream
                    .create_stream(wanted)
                    .await
                    .with_context(|| format!("creating the JetStream stream {name}"))?;
                tracing::info!(stream = %name, replicas = settings.replicas, "event stream created");
            }
            Err(err) => {
                return Err(anyhow::Error::new(err)
                    .context(format!("looking up the JetStream stream {name}")));
            }
        }
        Ok(())
    }

    /// What the fleet needs of its stream.
    fn stream_config(&self, settings: &StreamConfig) -> stream::Config {
        stream::Config {
            name: self.names.stream(),
            subjects: Subject::ALL
                .iter()
                .map(|s| self.names.subject(*s))
                .collect(),
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            max_age: Self::RETENTION,
            duplicate_window: Self::DUPLICATE_WINDOW,
            num_replicas: settings.replicas,
            ..Default::default()
        }
    }

    /// Whether the client holds a connection to NATS right now (no round trip).
    pub fn check_connected(&self) -> anyhow::Result<()> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => Ok(()),
            state => anyhow::bail!("the NATS connection is {state}"),
        }
    }

    pub fn publisher(&self) -> Publisher {
        Publisher::new(self.jetstream.clone(), self.names.clone())
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Flushes what is buffered and closes the connection (on shutdown).
    pub async fn close(self) {
        if let Err(err) = self.client.drain().await {
            tracing::warn!(error = %err, "closing the NATS connection");
        }
    }
}

impl ReadinessProbe for EventBus {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn check(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.check_connected() })
    }
}

fn is_not_found(err: &GetStreamError) -> bool {
    matches!(err.kind(), GetStreamErrorKind::JetStream(err) if err.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// The settings the fleet manages that differ, in words (`replicas 1 → 3`).
fn differences(current: &stream::Config, wanted: &stream::Config) -> Vec<String> {
    let mut changes = Vec::new();
    let subjects =
        |config: &stream::Config| -> BTreeSet<String> { config.subjects.iter().cloned().collect() };
    if subjects(current) != subjects(wanted) {
        changes.push(format!(
            "subjects {:?} → {:?}",
            current.subjects, wanted.subjects
        ));
    }
    if current.retention != wanted.retention {
        changes.push(format!(
            "retention {:?} → {:?}",
            current.retention, wanted.retention
        ));
    }
    if current.max_age != wanted.max_age {
        changes.push(format!(
            "max age {:?} → {:?}",
            current.max_age, wanted.max_age
        ));
    }
    if current.duplicate_window != wanted.duplicate_window {
        changes.push(format!(
            "duplicate window {:?} → {:?}",
            current.duplicate_window, wanted.duplicate_window
        ));
    }
    // The server reports 1 for a stream created with 0 (its default).
    let replicas = |config: &stream::Config| config.num_replicas.max(1);
    if replicas(current) != replicas(wanted) {
        changes.push(format!(
            "replicas {} → {}",
            replicas(current),
            replicas(wanted)
        ));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let names = Names::new(Some("t1".into()));
        assert_eq!(names.subject(Subject::OrderCreated), "t1.order.created");
        assert_eq!(names.stream(), "t1_EVENTS");
        assert_eq!(
            names.parse_subject("t1.order.created"),
            Some(Subject::OrderCreated)
        );
        assert_eq!(names.parse_subject("t2.order.created"), None);
        assert_eq!(
            names.durable("tickets", Subject::OrderCreated),
            "tickets-order-created"
        );

        let bare = Names::new(None);
        assert_eq!(bare.subject(Subject::TicketCreated), "ticket.created");
        assert_eq!(bare.stream(), "EVENTS");
    }

    fn fleet_stream(replicas: usize) -> stream::Config {
        stream::Config {
            name: "EVENTS".into(),
            subjects: vec!["ticket.created".into(), "order.created".into()],
            retention: stream::RetentionPolicy::Limits,
            max_age: EventBus::RETENTION,
            duplicate_window: EventBus::DUPLICATE_WINDOW,
            num_replicas: replicas,
            ..Default::default()
        }
    }

    #[test]
    fn an_unchanged_stream_is_left_alone_whatever_the_order_of_its_subjects() {
        let mut current = fleet_stream(1);
        current.subjects.reverse();
        // What the server reports for settings the fleet does not manage changes nothing.
        current.max_bytes = 1 << 30;
        assert_eq!(
            differences(&current, &fleet_stream(1)),
            Vec::<String>::new()
        );
        // A stream created with the server's default replica count (0) has one replica.
        assert!(differences(&fleet_stream(0), &fleet_stream(1)).is_empty());
    }

    /// Against the test NATS server (`TEST_NATS_URL`, default the local one), on a stream of
    /// its own.
    #[tokio::test]
    async fn a_stream_that_drifted_is_brought_back_in_line_keeping_other_settings() {
        let bus = EventBus::open(&NatsConfig {
            url: std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
            client_name: "bus-tests".into(),
            events_prefix: Some(format!("t_{}", uuid::Uuid::new_v4().simple())),
        })
        .await
        .expect("a bus");
        let settings = StreamConfig::default();
        let name = bus.names().stream();
        let config = async || {
            let stream = bus.jetstream().get_stream(&name).await.expect("the stream");
            stream.cached_info().config.clone()
        };
        bus.ensure_stream(&settings).await.expect("created");

        let mut drifted = config().await;
        drifted.duplicate_window = Duration::from_secs(60);
        drifted.max_age = Duration::from_secs(60 * 60);
        drifted.max_bytes = 1 << 30;
        bus.jetstream()
            .update_stream(&drifted)
            .await
            .expect("changed by hand");
        bus.ensure_stream(&settings).await.expect("updated");
        let restored = config().await;
        assert_eq!(restored.duplicate_window, EventBus::DUPLICATE_WINDOW);
        assert_eq!(restored.max_age, EventBus::RETENTION);
        assert_eq!(restored.max_bytes, 1 << 30, "an operator's limit is kept");
        bus.ensure_stream(&settings)
            .await
            .expect("nothing to change");

        bus.jetstream().delete_stream(&name).await.expect("deleted");
    }

    #[test]
    fn every_managed_setting_that_differs_is_named() {
        let mut current = fleet_stream(1);
        current.subjects.pop();
        current.retention = stream::RetentionPolicy::WorkQueue;
        current.max_age = Duration::from_secs(60);
        current.duplicate_window = Duration::from_secs(120);
        let changes = differences(&current, &fleet_stream(3));
        assert_eq!(changes.len(), 5, "{changes:?}");
        assert!(changes.iter().any(|c| c == "replicas 1 → 3"), "{changes:?}");
        assert!(
            changes.iter().any(|c| c.starts_with("subjects")),
            "{changes:?}"
        );
        assert!(
            changes.iter().any(|c| c.starts_with("retention")),
            "{changes:?}"
        );
        assert!(
            changes.iter().any(|c| c.starts_with("max age")),
            "{changes:?}"
        );
        assert!(
            changes
                .iter()
                .any(|c| c.starts_with("duplicate window 120s")),
            "{changes:?}"
        );
    }
}
