//! The connection to NATS JetStream and the names derived from the events prefix.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, stream};
use futures::future::BoxFuture;

use super::{Publisher, Subject};
use crate::{config::NatsConfig, server::ReadinessProbe};

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

/// A JetStream connection with the fleet's stream in place.
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

    /// Connects (retrying until NATS answers) and creates the stream if it does not exist.
    pub async fn connect(config: &NatsConfig) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name(&config.client_name)
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(|event| async move {
                tracing::info!(%event, "nats connection event");
            })
            .connect(&config.url)
            .await
            .with_context(|| format!("connecting to NATS at {}", config.url))?;
        let bus = Self {
            jetstream: jetstream::new(client.clone()),
            client,
            names: Names::new(config.events_prefix.clone()),
        };
        bus.ensure_stream().await?;
        Ok(bus)
    }

    /// Creates the stream capturing every catalogue subject; a no-op if it already exists.
    pub async fn ensure_stream(&self) -> anyhow::Result<()> {
        let name = self.names.stream();
        self.jetstream
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: Subject::ALL
                    .iter()
                    .map(|s| self.names.subject(*s))
                    .collect(),
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: Self::RETENTION,
                duplicate_window: Self::DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .with_context(|| format!("creating the JetStream stream {name}"))?;
        Ok(())
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
        Box::pin(async move {
            match self.client.connection_state() {
                async_nats::connection::State::Connected => Ok(()),
                state => anyhow::bail!("connection is {state}"),
            }
        })
    }
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
}
