//! The transactional outbox (DESIGN.md §4). A state change and the events it causes are written
//! in one document update (MongoDB is atomic per document): the events wait in the document's
//! `outbox` array. The relay publishes them in order, waits for JetStream's ack, and only then
//! removes them. A crash anywhere leaves them in the array, so the next relay publishes them again;
//! the event id as `Nats-Msg-Id` makes that second publish a no-op.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use futures::TryStreamExt;
use mongodb::{
    Collection,
    bson::{self, Bson, Document, doc},
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Envelope, Event, EventId, Publisher, Subject};

/// The field of a document that holds its unpublished events.
pub const OUTBOX_FIELD: &str = "outbox";
/// True while the document holds unpublished events: a plain boolean the database can match
/// without decoding every document (FerretDB cannot filter `outbox: {$ne: []}` that way).
pub const PENDING_FIELD: &str = "outbox_pending";

/// A document's unpublished events and their marker; `#[serde(flatten)]` it into the document
/// written together with the state change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    #[serde(default)]
    pub outbox: Vec<OutboxEntry>,
    #[serde(default)]
    pub outbox_pending: bool,
}

impl Outbox {
    pub fn new(entries: Vec<OutboxEntry>) -> Self {
        Self {
            outbox_pending: !entries.is_empty(),
            outbox: entries,
        }
    }
}

/// One pending event, stored as the JSON that will be published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: EventId,
    pub subject: String,
    pub payload: String,
}

impl OutboxEntry {
    /// Only catalogue events can be put in the outbox, each on its own subject.
    pub fn new<E: Event>(event: &Envelope<E>) -> anyhow::Result<Self> {
        Ok(Self {
            id: event.id.clone(),
            subject: E::SUBJECT.as_str().to_owned(),
            payload: serde_json::to_string(event).context("serializing an outbox event")?,
        })
    }

    pub fn to_bson(&self) -> anyhow::Result<Bson> {
        bson::to_bson(self).context("encoding an outbox event")
    }
}

#[derive(Debug, Deserialize)]
struct Pending {
    #[serde(rename = "_id")]
    id: Bson,
    #[serde(default)]
    outbox: Vec<OutboxEntry>,
}

/// Wakes the relay right after a write, so events go out without waiting for the next poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// Publishes what waits in the outboxes of the given collections.
pub struct OutboxRelay {
    publisher: Publisher,
    collections: Vec<Collection<Document>>,
    signal: OutboxSignal,
    poll_interval: Duration,
}

impl OutboxRelay {
    pub fn new(
        publisher: Publisher,
        collections: Vec<Collection<Document>>,
        signal: OutboxSignal,
    ) -> Self {
        Self {
            publisher,
            collections,
            signal,
            // Only a safety net: writes in this process wake the relay at once.
            poll_interval: Duration::from_secs(1),
        }
    }

    /// Relays until `shutdown`, then drains what is pending one last time.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("outbox relay started");
        loop {
            if let Err(err) = self.relay_pending().await {
                tracing::warn!(error = %format!("{err:#}"), "outbox relay pass failed; will retry");
            }
            tokio::select! {
                () = self.signal.0.notified() => {}
                () = tokio::time::sleep(self.poll_interval) => {}
                () = shutdown.cancelled() => break,
            }
        }
        if let Err(err) = self.relay_pending().await {
            tracing::warn!(error = %format!("{err:#}"), "final outbox pass failed; events stay pending for the next start");
        }
        tracing::info!("outbox relay stopped");
    }

    /// One pass over every collection; returns how many events were published.
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let mut published = 0;
        for collection in &self.collections {
            let pending = collection.clone_with_type::<Pending>();
            let mut cursor = pending
                .find(doc! { PENDING_FIELD: true })
                .projection(doc! { OUTBOX_FIELD: 1 })
                .await
                .with_context(|| format!("finding pending events in {}", collection.name()))?;
            while let Some(document) = cursor.try_next().await.context("reading pending events")? {
                for entry in &document.outbox {
                    self.publish(entry).await?;
                    published += 1;
                }
                // Only once every event of the document is acked; a crash before this line
                // publishes them again, and their ids make JetStream drop the repeats.
                collection
                    .update_one(
                        doc! { "_id": document.id.clone() },
                        doc! { "$set": { OUTBOX_FIELD: [], PENDING_FIELD: false } },
                    )
                    .await
                    .context("marking events sent")?;
            }
        }
        Ok(published)
    }

    async fn publish(&self, entry: &OutboxEntry) -> anyhow::Result<()> {
        let subject = Subject::parse(&entry.subject)
            .with_context(|| format!("outbox holds an unknown subject {:?}", entry.subject))?;
        self.publisher
            .publish_raw(subject, &entry.id, Bytes::from(entry.payload.clone()))
            .await
            .with_context(|| format!("publishing {} {}", entry.subject, entry.id))?;
        Ok(())
    }
}
