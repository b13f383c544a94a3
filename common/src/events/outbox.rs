//! The transactional outbox (DESIGN.md §4). A state change and the events it causes are written
//! in one insert (an entity's next revision in a `store::VersionedStore`, or a payment): the
//! events wait in the document's `outbox` array, flagged by `outbox_pending`. The relay publishes
//! them in order, waits for JetStream's ack, and only then clears them. A crash anywhere leaves
//! them pending (or carried into the next revision), so they are published again; the event id as
//! `Nats-Msg-Id` makes that second publish a no-op.
//!
//! # Two ways in
//! - **Handed over.** A store's writer hands the events to the relay in memory once it knows the
//!   write stands ([`OutboxSignal::hand_over`]), and the relay publishes them without reading them
//!   back. One `update` per batch then clears them (and a change's hold) together, so a change
//!   costs no separate release and no read by the relay. A change is written `held` until then; a
//!   writer that stops first leaves it held, and the store's repair releases it to the second way.
//!   A new entity's events are pending at once (nothing can prove it stale), so after a crash the
//!   relay's first read finds them.
//! - **Found.** Pending documents that nobody holds (a payment, a revision released by repair, a
//!   hand-over whose publish failed) are read by the relay: at start, on every poll, and whenever a
//!   writer calls [`OutboxSignal::notify`].
//!
//! Cost: a batch of up to [`OutboxRelay::BATCH_DOCUMENTS`] documents is one `update` and one wait
//! for JetStream, however many events it holds, plus one `find` for the documents it must read.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

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
/// True while the document's writer holds its events (see "Two ways in"): the relay's read passes
/// over it. Documents that never have a writer's hold (a payment) do not carry the field.
pub const HELD_FIELD: &str = "held";

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

/// How a writer tells its relay about events right after the write: by handing them over (see
/// "Two ways in"), or by waking it to read what is pending.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Signals>);

#[derive(Default)]
struct Signals {
    wake: Notify,
    pending_written: AtomicBool,
    handed_over: Mutex<Vec<HandedOver>>,
}

/// The events of one held document, handed to the relay by its writer.
struct HandedOver {
    collection: String,
    document: Pending,
}

impl OutboxSignal {
    /// Hand-overs waiting beyond this are refused: their documents stay held for repair, so a
    /// relay that cannot keep up (or does not run) costs no unbounded memory.
    pub const MAX_HANDED_OVER: usize = 4096;

    /// Pending documents nobody holds were written: the relay reads them at once.
    pub fn notify(&self) {
        self.0.pending_written.store(true, Ordering::SeqCst);
        self.0.wake.notify_one();
    }

    /// Hands the events of document `id` of `collection`, written pending (and `held`, for a
    /// change), to the relay, which publishes them and then clears them and any hold. `false` if
    /// the relay has too many waiting: a held document stays held until the store's repair
    /// releases it; one not held waits for the relay's next read.
    pub fn hand_over(&self, collection: &str, id: Bson, events: Vec<OutboxEntry>) -> bool {
        let mut handed_over = self
            .0
            .handed_over
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if handed_over.len() >= Self::MAX_HANDED_OVER {
            return false;
        }
        handed_over.push(HandedOver {
            collection: collection.to_owned(),
            document: Pending { id, outbox: events },
        });
        drop(handed_over);
        self.0.wake.notify_one();
        true
    }

    fn take_handed_over(&self) -> Vec<HandedOver> {
        std::mem::take(
            &mut *self
                .0
                .handed_over
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn take_pending_written(&self) -> bool {
        self.0.pending_written.swap(false, Ordering::SeqCst)
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
    /// How long a wake-up waits for more hand-overs to share its batch. FerretDB runs the batch's
    /// `update` as a read of every pending document (it cannot hand `$in` to its backend) and a
    /// write of each match, so small batches pay that read again and again: measured at 20
    /// pending, 8 ms to mark 1 document, 13 ms for 3, 32 ms for 20. A few milliseconds more on
    /// an event's way out buys batches several times larger under load.
    pub const LINGER: Duration = Duration::from_millis(10);

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

    /// Relays until `shutdown`, then drains what is pending one last time. Hand-overs go out
    /// within [`Self::LINGER`] of coming; the collections are read at start, on every poll, after
    /// a writer's [`OutboxSignal::notify`], and after a hand-over that could not be published.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("outbox relay started");
        let mut read_due = true;
        loop {
            if let Err(err) = self.relay_handed_over().await {
                tracing::warn!(error = %format!("{err:#}"), "outbox relay could not publish what writers handed over; will read it back");
                read_due = true;
            }
            if self.signal.take_pending_written() || read_due {
                read_due = false;
                if let Err(err) = self.relay_found().await {
                    tracing::warn!(error = %format!("{err:#}"), "outbox relay pass failed; will retry");
                }
            }
            tokio::select! {
                () = self.signal.0.wake.notified() => {}
                () = tokio::time::sleep(self.poll_interval) => read_due = true,
                () = shutdown.cancelled() => break,
            }
            tokio::select! {
                () = tokio::time::sleep(Self::LINGER) => {}
                () = shutdown.cancelled() => break,
            }
        }
        if let Err(err) = self.relay_pending().await {
            tracing::warn!(error = %format!("{err:#}"), "final outbox pass failed; events stay pending for the next start");
        }
        tracing::info!("outbox relay stopped");
    }

    /// One full pass: what writers handed over, then what waits in every collection; returns how
    /// many events were published.
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let handed_over = self.relay_handed_over().await;
        let found = self.relay_found().await;
        Ok(handed_over? + found?)
    }

    /// Publishes what writers handed over, in batches per collection: one `update` each, no read.
    /// Documents whose events did not all get acked are handed back to the collection (their hold
    /// lifted), where the next read finds them.
    async fn relay_handed_over(&self) -> anyhow::Result<usize> {
        let mut handed_over = self.signal.take_handed_over();
        if handed_over.is_empty() {
            return Ok(0);
        }
        let mut published = 0;
        let mut first_failure = None;
        for collection in &self.collections {
            let (mine, others): (Vec<_>, Vec<_>) = handed_over
                .into_iter()
                .partition(|handed| handed.collection == collection.name());
            handed_over = others;
            if mine.is_empty() {
                continue;
            }
            let documents: Vec<Pending> = mine.into_iter().map(|handed| handed.document).collect();
            let mut backlog = Backlog::default();
            backlog.saw(&documents);
            // In batches as large as a read's, so the publishes awaiting acks stay as bounded.
            for batch in documents.chunks(self.batch_documents) {
                match self
                    .relay_documents(collection, batch, Source::HandedOver)
                    .await
                {
                    Ok(count) => published += count,
                    Err(err) => {
                        first_failure.get_or_insert(err);
                    }
                }
            }
            backlog.record(collection);
        }
        for stray in handed_over {
            tracing::warn!(collection = %stray.collection, "events handed over for a collection this relay does not serve; repair releases them");
        }
        first_failure.map_or(Ok(published), Err)
    }

    /// Reads and publishes the pending documents nobody holds, batch after batch while batches
    /// come back full; returns how many events were published. What each pass found is the
    /// outbox backlog of [`crate::metrics`]: read from the batches the relay reads anyway.
    async fn relay_found(&self) -> anyhow::Result<usize> {
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
            let documents = read_pending(collection, self.batch_documents).await?;
            backlog.saw(&documents);
            published += self
                .relay_documents(collection, &documents, Source::Found)
                .await?;
            if documents.len() < self.batch_documents {
                return Ok(published);
            }
        }
    }

    /// Publishes a batch and clears what JetStream acked, in one `update`. Documents whose events
    /// did not all get acked stay pending, no longer held, for the next read; the batch then
    /// reports an error, so a relay that cannot reach JetStream waits for its next poll instead
    /// of spinning.
    async fn relay_documents(
        &self,
        collection: &Collection<Document>,
        documents: &[Pending],
        source: Source,
    ) -> anyhow::Result<usize> {
        let (sent, failures) = self.publish(documents).await;
        let published = sent.iter().map(|id| documents[*id].outbox.len()).sum();
        let ids: Vec<Bson> = sent.iter().map(|i| documents[*i].id.clone()).collect();
        mark_sent(collection, ids).await?;
        let Some(first) = failures.into_iter().next() else {
            return Ok(published);
        };
        if source == Source::HandedOver {
            let unsent: Vec<Bson> = (0..documents.len())
                .filter(|i| !sent.contains(i))
                .map(|i| documents[i].id.clone())
                .collect();
            hand_back(collection, unsent).await?;
        }
        Err(first.context(format!("some events of {} stay pending", collection.name())))
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

/// Where a batch of pending documents came from (see "Two ways in").
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    HandedOver,
    Found,
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

/// One `find` of the pending documents nobody holds: the batch size equals the limit, so the
/// first reply holds every document and the server closes the cursor (no `getMore`, no
/// `killCursors`). No sort: FerretDB would scan and sort the whole collection for it, and the
/// order across documents does not matter. `$ne`, not `false`: a payment has no hold field.
async fn read_pending(
    collection: &Collection<Document>,
    documents: usize,
) -> anyhow::Result<Vec<Pending>> {
    let limit = i64::try_from(documents).unwrap_or(i64::MAX);
    let batch_size = u32::try_from(documents).unwrap_or(u32::MAX);
    collection
        .clone_with_type::<Pending>()
        .find(doc! { PENDING_FIELD: true, HELD_FIELD: { "$ne": true } })
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
/// crash before it publishes them again, and their ids make JetStream drop the repeats. It lifts
/// a writer's hold with the events, so a hand-over needs no write of its own.
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
            doc! { "$set": { OUTBOX_FIELD: [], PENDING_FIELD: false, HELD_FIELD: false } },
        )
        .await
        .context("marking events sent")?;
    Ok(())
}

/// Lifts the hold of handed-over documents whose events did not get out, so the relay's next
/// read finds them.
async fn hand_back(collection: &Collection<Document>, ids: Vec<Bson>) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    collection
        .update_many(
            doc! { PENDING_FIELD: true, HELD_FIELD: true, "_id": { "$in": ids } },
            doc! { "$set": { HELD_FIELD: false } },
        )
        .await
        .context("handing unsent events back to the outbox")?;
    Ok(())
}
