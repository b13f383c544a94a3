//! The transactional outbox (DESIGN.md §4). A state change and the events it causes are written
//! in one insert (an entity's next revision in a `store::VersionedStore`, or a payment): the
//! events wait in the document's `outbox` array, flagged by `outbox_pending`. The relay publishes them in order, waits for
//! JetStream's ack, and only then clears them. A crash anywhere leaves them pending (or carried
//! into the next revision), so they are published again; the event id as `Nats-Msg-Id` makes that
//! second publish a no-op.
//!
//! Cost: a batch of up to [`OutboxRelay::BATCH_DOCUMENTS`] documents is two database commands
//! (one `find`, one `update`) and one wait for JetStream, however many events it holds.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{TryStreamExt, future::join_all};
use mongodb::{
    Collection,
    bson::{self, Bson, Document, doc},
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Envelope, Event, EventId, Publisher, Subject, publisher::SentEvent};
use crate::{metrics, telemetry::TraceContext};

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
    /// The trace of the request or event that caused it, continued when it is published
    /// (`events::trace`). Absent with traces off, and in entries written before traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
}

impl OutboxEntry {
    /// Only catalogue events can be put in the outbox, each on its own subject. The entry
    /// belongs to the trace of the current span (the request or event being handled).
    pub fn new<E: Event>(event: &Envelope<E>) -> anyhow::Result<Self> {
        Ok(Self {
            id: event.id.clone(),
            subject: E::SUBJECT.as_str().to_owned(),
            payload: serde_json::to_string(event).context("serializing an outbox event")?,
            trace: TraceContext::current(),
        })
    }

    pub fn to_bson(&self) -> anyhow::Result<Bson> {
        bson::to_bson(self).context("encoding an outbox event")
    }

    /// When the event happened, read from its stored envelope (`None` if it cannot be read).
    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct OccurredAt {
            occurred_at: DateTime<Utc>,
        }
        serde_json::from_str::<OccurredAt>(&self.payload)
            .ok()
            .map(|envelope| envelope.occurred_at)
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
    batch_documents: usize,
}

impl OutboxRelay {
    /// Documents read per batch. Each holds a few events, so a batch stays far below a 16 MB
    /// reply, and 256 × their events is well inside the publisher's 5,000 unacked publishes.
    pub const BATCH_DOCUMENTS: usize = 256;

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
            batch_documents: Self::BATCH_DOCUMENTS,
        }
    }

    /// Reads at most `documents` per batch (tests use small batches to see several of them).
    pub fn with_batch_documents(mut self, documents: usize) -> Self {
        self.batch_documents = documents.max(1);
        self
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

    /// One pass over every collection, batch after batch while batches come back full; returns
    /// how many events were published. What each pass found pending is the outbox backlog of
    /// [`crate::metrics`]: read from the batches the relay reads anyway, no query of its own.
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let mut published = 0;
        for collection in &self.collections {
            let mut backlog = Backlog::default();
            let relayed = self.relay_collection(collection, &mut backlog).await;
            backlog.record(collection);
            published += relayed?;
        }
        Ok(published)
    }

    async fn relay_collection(
        &self,
        collection: &Collection<Document>,
        backlog: &mut Backlog,
    ) -> anyhow::Result<usize> {
        let mut published = 0;
        loop {
            let batch = self.relay_batch(collection, backlog).await?;
            published += batch.published;
            if !batch.full {
                return Ok(published);
            }
        }
    }

    /// Budget: one `find` and at most one `update`. Documents whose events did not all get
    /// acked stay pending for the next pass; the batch then reports an error, so a relay that
    /// cannot reach JetStream waits for its next poll instead of spinning.
    async fn relay_batch(
        &self,
        collection: &Collection<Document>,
        backlog: &mut Backlog,
    ) -> anyhow::Result<Batch> {
        let documents = read_pending(collection, self.batch_documents).await?;
        backlog.saw(&documents);
        let full = documents.len() >= self.batch_documents;
        let (sent, failures) = self.publish(&documents).await;
        let published = sent.iter().map(|id| documents[*id].outbox.len()).sum();
        let ids: Vec<Bson> = sent.into_iter().map(|i| documents[i].id.clone()).collect();
        mark_sent(collection, ids).await?;
        match failures.into_iter().next() {
            Some(first) => {
                Err(first.context(format!("some events of {} stay pending", collection.name())))
            }
            None => Ok(Batch { published, full }),
        }
    }

    /// Sends every event of the batch, then awaits all the acks together. Returns the indexes of
    /// the documents whose every event JetStream acked, and what went wrong with the others.
    async fn publish(&self, documents: &[Pending]) -> (BTreeSet<usize>, Vec<anyhow::Error>) {
        let mut failures = Vec::new();
        let mut in_flight = Vec::new();
        let mut failed = BTreeSet::new();
        for (index, document) in documents.iter().enumerate() {
            match self.send_document(document).await {
                Ok(sent) => in_flight.extend(sent.into_iter().map(|event| (index, event))),
                Err(err) => {
                    failed.insert(index);
                    failures.push(err);
                }
            }
        }
        let confirmations = join_all(
            in_flight
                .into_iter()
                .map(|(index, event)| async move { (index, event.confirmed().await) }),
        )
        .await;
        for (index, confirmed) in confirmations {
            if let Err(err) = confirmed {
                failed.insert(index);
                failures.push(anyhow::Error::new(err).context("awaiting JetStream's ack"));
            }
        }
        let acked = (0..documents.len())
            .filter(|i| !failed.contains(i))
            .collect();
        (acked, failures)
    }

    /// Sends a document's events in their order. On the first failure the rest are held back,
    /// so a consumer never sees a later event of the document before an earlier one got out.
    async fn send_document(&self, document: &Pending) -> anyhow::Result<Vec<SentEvent>> {
        let mut sent = Vec::with_capacity(document.outbox.len());
        for entry in &document.outbox {
            sent.push(self.send(entry).await?);
        }
        Ok(sent)
    }

    async fn send(&self, entry: &OutboxEntry) -> anyhow::Result<SentEvent> {
        let subject = Subject::parse(&entry.subject)
            .with_context(|| format!("outbox holds an unknown subject {:?}", entry.subject))?;
        self.publisher
            .send_raw(
                subject,
                &entry.id,
                Bytes::from(entry.payload.clone()),
                entry.trace.as_ref(),
            )
            .await
            .with_context(|| format!("publishing {} {}", entry.subject, entry.id))
    }
}

/// The unpublished events one pass found in a collection: how many, and the oldest one's time.
#[derive(Default)]
struct Backlog {
    events: usize,
    oldest: Option<DateTime<Utc>>,
}

impl Backlog {
    fn saw(&mut self, documents: &[Pending]) {
        for entry in documents.iter().flat_map(|document| &document.outbox) {
            self.events += 1;
            if let Some(at) = entry.occurred_at() {
                self.oldest = Some(self.oldest.map_or(at, |oldest| oldest.min(at)));
            }
        }
    }

    fn record(&self, collection: &Collection<Document>) {
        let age = self
            .oldest
            .and_then(|oldest| (Utc::now() - oldest).to_std().ok())
            .unwrap_or_default();
        metrics::outbox_backlog(&collection.namespace().to_string(), self.events, age);
    }
}

struct Batch {
    published: usize,
    /// A full batch may have left more behind it.
    full: bool,
}

/// One `find`: the batch size equals the limit, so the first reply holds every document and
/// the server closes the cursor (no `getMore`, no `killCursors`). No sort: FerretDB would scan
/// and sort the whole collection for it, and the order across documents does not matter.
async fn read_pending(
    collection: &Collection<Document>,
    documents: usize,
) -> anyhow::Result<Vec<Pending>> {
    let limit = i64::try_from(documents).unwrap_or(i64::MAX);
    let batch_size = u32::try_from(documents).unwrap_or(u32::MAX);
    collection
        .clone_with_type::<Pending>()
        .find(doc! { PENDING_FIELD: true })
        .projection(doc! { OUTBOX_FIELD: 1 })
        .limit(limit)
        .batch_size(batch_size)
        .await
        .with_context(|| format!("finding pending events in {}", collection.name()))?
        .try_collect()
        .await
        .context("reading pending events")
}

/// One `update` for the whole batch, and only for documents whose every event was acked: a
/// crash before it publishes them again, and their ids make JetStream drop the repeats.
///
/// The pending flag is redundant for MongoDB but not for FerretDB, which cannot hand `$in` to
/// its backend: the plain boolean narrows the read to the pending documents, where `$in` alone
/// had every document of the collection decoded (3 s at 10,000 documents, measured).
async fn mark_sent(collection: &Collection<Document>, ids: Vec<Bson>) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    collection
        .update_many(
            doc! { PENDING_FIELD: true, "_id": { "$in": ids } },
            doc! { "$set": { OUTBOX_FIELD: [], PENDING_FIELD: false } },
        )
        .await
        .context("marking events sent")?;
    Ok(())
}
