//! The versioned store: how every service keeps entities that change over time, with optimistic
//! versions (DESIGN.md §4) and the outbox, on any MongoDB-wire server, in a few round trips.
//!
//! # Why inserts
//! A compare-and-set `update_one({_id, version: v-1})` is atomic on MongoDB but not on FerretDB
//! 1.24 (the development and test server), with either backend: of twenty concurrent updates of
//! one version, several report a match. The one write atomic everywhere is an insert under a
//! unique key. So each change of an entity is the insert of its next *revision* — the whole new
//! state and the events it causes — under a unique `(entity, version)`: of two writers racing
//! for a version exactly one insert succeeds, and state and events are stored in that one write.
//!
//! FerretDB also runs a filtered `update_one`/`delete_one` as a read of the match, then a write
//! by `_id` alone. So no `_id` is ever used twice (`<entity>:<version>:<nonce>`): a write or delete
//! by `_id` reaches the revision it names or nothing, never a later one under the same version.
//!
//! # Why it stays small
//! Once revision `v+1` exists, revision `v` is history: its writer deletes it (carrying its
//! unpublished events forward into `v+1`), so an entity has one document, two while a change is
//! in flight. Reads find an entity's documents by `entity` and take the newest — no sort, no
//! projection to keep up to date, and a collection sized by the live entities.
//!
//! # Why compaction cannot reopen a version
//! Deleting `v` frees its version. A writer that read `v-1` long ago could now insert "its" `v` after
//! `v`, `v+1` and more exist — a ghost, whose events must never be published. Two facts rule it
//! out: every revision remembers its ancestors' random nonces (`lineage`), and a revision's base
//! is deleted only by a writer that built on it (after that base's own base was gone). So right
//! after its insert, the writer of `v` deletes its base `v-1` *by its `_id`*: one document deleted
//! proves `v-1` was still there, so `v` is the live successor. None deleted means either someone
//! helped (an in-flight successor of ours did it) or we are a ghost; reading the entity tells
//! which: the newest revision is ours or lists our nonce in its lineage, or we are a ghost and
//! delete ourselves. A change with events is written `held`: its writer hands the events to the
//! relay only once the proof is made, and the relay's read passes over it meanwhile (a new
//! entity needs no proof: its events are pending at once, and handed over too). A final state
//! (one that never changes again, like a paid or cancelled order) is never compacted, so its
//! version is never reused, and it skips the proof.
//!
//! # Why shelves
//! A list page finds its entities by *equality* on one top-level field, `shelf`, which the entity
//! names ([`Versioned::shelf`]): FerretDB 1.24 hands only equality on top-level fields to
//! PostgreSQL (where an index serves it) and decodes, filters and sorts everything else itself —
//! a page ordered over a whole collection cost it seconds at 10,000 documents. So a page reads
//! one shelf; an entity that does not show on any list (a reserved ticket) has none, and costs a
//! page nothing. MongoDB serves the same query from the `(shelf, entity, version)` index.
//!
//! Round trips: create 1; update 3 (read, insert, delete base); apply a replica version 3 (a
//! first version 1), or 2 when this process applied the version before (no read: `recent`), and
//! none for a duplicate of a version it applied. Inserts of the same moment share one command
//! ([`GroupInsert`]), so under load an insert costs the server a fraction of a lone one. The
//! events then cost the relay a share of one `update` per batch (`events::outbox`, "Two ways
//! in").
//! [`VersionedStore::repair`] finishes what a writer that stopped halfway left held.

mod recent;
mod revision;
mod upgrade;

use std::{fmt, marker::PhantomData, time::Duration};

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    bson::{self, Bson, Document, doc},
};
use serde::{Serialize, de::DeserializeOwned};
use tokio_util::sync::CancellationToken;

use recent::Recent;
use revision::Revision;

use crate::{
    app::Worker,
    domain::Version,
    events::{HandleError, OutboxEntry, OutboxSignal, outbox::PENDING_FIELD},
    mongo::{GroupInsert, ensure_index},
};

/// An entity kept by a [`VersionedStore`].
pub trait Versioned: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    type Id: Into<Bson> + Copy + fmt::Display + Send + Sync;

    fn id(&self) -> Self::Id;
    fn version(&self) -> Version;

    /// True when no change can ever follow this state (a cancelled or paid order). Only return
    /// true if *every* change of the state before it leads to a final state too: then the
    /// version is never compacted, its key never reused, and it is stored without the check.
    fn is_final(&self) -> bool {
        false
    }

    /// The list this state shows on, if any (see "Why shelves"): a page is read by
    /// [`VersionedStore::page`] from one shelf. Keep shelves to a few hundred entities each.
    fn shelf(&self) -> Option<String> {
        None
    }
}

/// What became of a replica update (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The replica moved to the new version.
    Applied,
    /// The replica already holds this version or a later one: drop the event (ack).
    Duplicate,
    /// The replica is behind by more than one version: retry once the missing one arrived.
    Early,
}

impl Applied {
    /// The listener's answer: ack for applied and duplicate, retry later for early.
    pub fn into_handled(self) -> Result<(), HandleError> {
        match self {
            Self::Applied | Self::Duplicate => Ok(()),
            Self::Early => Err(HandleError::Early),
        }
    }
}

/// What an update decided to do with the current state.
pub enum Change<T> {
    /// Store `state` (its version must be the current one plus one) with these events.
    Save { state: T, events: Vec<OutboxEntry> },
    /// Nothing to do (e.g. the change is already there).
    Unchanged,
}

/// Why the store could not finish an update, whatever the caller decided. An update returns the
/// caller's own error type, which says what each of these means for its operation (`From`).
#[derive(Debug, thiserror::Error)]
pub enum UpdateFailure {
    #[error("no such entity")]
    Missing,
    #[error("the entity kept changing; gave up after {0} attempts")]
    Contended(usize),
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

/// How an update ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated<T> {
    Saved(T),
    Unchanged(T),
}

impl<T> Updated<T> {
    pub fn into_inner(self) -> T {
        match self {
            Self::Saved(state) | Self::Unchanged(state) => state,
        }
    }
}

/// An update read as a replica change: saved is applied, unchanged is a duplicate.
impl<T> From<Updated<T>> for Applied {
    fn from(updated: Updated<T>) -> Self {
        match updated {
            Updated::Saved(_) => Self::Applied,
            Updated::Unchanged(_) => Self::Duplicate,
        }
    }
}

/// The newest revision of an entity as read, to update from without reading it again.
pub struct Current<T> {
    revision: Revision<T>,
    /// The revision it was made from, while still stored: its writer has not finished (or
    /// stopped).
    base: Option<Revision<T>>,
    /// The keys of any other revision stored, neither the newest nor its base: never live again
    /// (a late copy of a replica's first version, see `apply_initial`, or a base left behind by
    /// the legacy release). The next change deletes them.
    dead: Vec<String>,
}

impl<T: Versioned> Current<T> {
    /// A revision known to be its entity's newest, with nothing else stored beside it.
    fn settled(revision: Revision<T>) -> Self {
        Self {
            revision,
            base: None,
            dead: Vec::new(),
        }
    }

    pub fn state(&self) -> &T {
        &self.revision.state
    }

    pub fn into_state(self) -> T {
        self.revision.state
    }

    /// The state as of the last finished change: a held revision whose base is still stored is
    /// a change in flight (or a stale write about to be undone), so a reader sees the base, as
    /// a page of the list does. Its own writer answers with the new state once it is proven.
    pub fn into_settled_state(self) -> T {
        match self.base {
            Some(base) if self.revision.held => base.state,
            _ => self.revision.state,
        }
    }

    fn version(&self) -> Version {
        self.revision.version
    }
}

/// What became of one attempt to store the next revision.
enum Saved<T> {
    /// Stored and proven live.
    Stored(Box<Revision<T>>),
    /// Another writer took the version first, or ours proved stale: read again.
    Superseded,
}

/// Entities of one kind, in the collection `<name>`.
pub struct VersionedStore<T: Versioned> {
    revisions: Collection<Revision<T>>,
    /// Every revision is stored through it: writers of the same moment share one `insert`.
    inserts: GroupInsert<Revision<T>>,
    /// The replica versions this process applied last (see `recent`).
    recent: Recent<T>,
    signal: OutboxSignal,
    _entity: PhantomData<T>,
}

impl<T: Versioned> Clone for VersionedStore<T> {
    fn clone(&self) -> Self {
        Self {
            revisions: self.revisions.clone(),
            inserts: self.inserts.clone(),
            recent: self.recent.clone(),
            signal: self.signal.clone(),
            _entity: PhantomData,
        }
    }
}

impl<T: Versioned> VersionedStore<T> {
    /// How often an update retries after losing a race for the next version.
    pub const MAX_ATTEMPTS: usize = 10;
    /// A held revision older than this has lost its writer; [`Self::repair`] finishes it.
    pub const REPAIR_AFTER: Duration = Duration::from_secs(5);

    pub async fn open(db: &Database, name: &str, signal: OutboxSignal) -> anyhow::Result<Self> {
        let revisions = db.collection::<Revision<T>>(name);
        // Before the claim was unique the same keys had a plain index; a server refuses a second
        // index on the same keys with other options, so an upgraded database drops the old one.
        if let Err(err) = revisions.drop_index(format!("{name}_by_entity")).await {
            tracing::debug!(error = %err, "no legacy {name}_by_entity index to drop");
        }
        // The claim of a version (unique), and how an entity is read.
        ensure_index(
            &revisions,
            doc! { "entity": 1, "version": -1 },
            &format!("{name}_version_claim"),
            true,
        )
        .await?;
        ensure_index(
            &revisions,
            doc! { "shelf": 1, "entity": 1, "version": -1 },
            &format!("{name}_shelf"),
            false,
        )
        .await?;
        ensure_index(
            &revisions,
            doc! { PENDING_FIELD: 1 },
            &format!("{name}_outbox_pending"),
            false,
        )
        .await?;
        let store = Self {
            inserts: GroupInsert::new(revisions.clone()),
            recent: Recent::new(),
            revisions,
            signal,
            _entity: PhantomData,
        };
        store.upgrade(db).await?;
        Ok(store)
    }

    /// How the store's writers reach their relay: the relay that serves the store needs it.
    pub fn outbox_signal(&self) -> OutboxSignal {
        self.signal.clone()
    }

    /// The raw documents, as the outbox relay (and tests, and the operator) read them.
    pub fn collection(&self) -> Collection<Document> {
        self.revisions.clone_with_type()
    }

    /// Reads the entity: one round trip.
    pub async fn current(&self, id: T::Id) -> anyhow::Result<Option<Current<T>>> {
        let revisions: Vec<Revision<T>> = self
            .revisions
            .find(doc! { "entity": id.into() })
            .await
            .with_context(|| format!("loading {id}"))?
            .try_collect()
            .await
            .with_context(|| format!("reading {id}"))?;
        Ok(newest(revisions))
    }

    /// [`Self::current`] for an update: an entity that is not there is a failure.
    async fn existing(&self, id: T::Id) -> Result<Current<T>, UpdateFailure> {
        self.current(id).await?.ok_or(UpdateFailure::Missing)
    }

    /// The entity's state as of its last finished change (see [`Current::into_settled_state`]).
    pub async fn latest(&self, id: T::Id) -> anyhow::Result<Option<T>> {
        Ok(self.current(id).await?.map(Current::into_settled_state))
    }

    /// Up to `limit` entities on `shelf` ([`Versioned::shelf`]), in id order, after the entity
    /// `after`: one round trip.
    ///
    /// An entity shows as of its last finished change, like [`Self::latest`]: while a change is
    /// in flight both revisions may match, and the base wins over a held successor. A successor
    /// that stopped matching (a ticket just reserved) leaves the base listed until its writer
    /// deletes it, a few milliseconds; telling that apart would cost a read of every listed
    /// entity, and on FerretDB (no index for `$in`) a scan of the whole collection.
    pub async fn page(
        &self,
        shelf: &str,
        after: Option<T::Id>,
        limit: u32,
    ) -> anyhow::Result<Vec<T>> {
        let mut filter = doc! { "shelf": shelf };
        if let Some(after) = after {
            filter.insert("entity", doc! { "$gt": after.into() });
        }
        // A change in flight shows an entity twice for a moment; a little slack keeps the page full.
        let fetch = i64::from(limit) + 4;
        let revisions: Vec<Revision<T>> = self
            .revisions
            .find(filter)
            .sort(doc! { "entity": 1, "version": -1 })
            .limit(fetch)
            .await
            .context("listing")?
            .try_collect()
            .await
            .context("reading a page")?;
        let page = revisions
            .chunk_by(|a, b| a.entity == b.entity)
            .filter_map(|same_entity| newest(same_entity.to_vec()))
            .map(Current::into_settled_state)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        Ok(page)
    }

    /// Stores a new entity at its initial version: one round trip; `false` if it already exists.
    pub async fn create(&self, state: T, events: Vec<OutboxEntry>) -> anyhow::Result<bool> {
        anyhow::ensure!(
            state.version() == Version::INITIAL,
            "a new entity starts at version 0"
        );
        let revision = Revision::initial(state, events);
        let inserted = self.insert(&revision).await?;
        if inserted {
            self.hand_over(&revision);
        }
        Ok(inserted)
    }

    /// Reads the latest state, lets `decide` derive the next one, and stores it as the next
    /// version; if another writer took that version first, starts again from the newer state.
    /// `decide`'s refusals and the store's own failures come back as one error type, `E`.
    pub async fn update<E: From<UpdateFailure>>(
        &self,
        id: T::Id,
        decide: impl FnMut(T) -> Result<Change<T>, E>,
    ) -> Result<Updated<T>, E> {
        let current = self.existing(id).await?;
        self.update_from(current, decide).await
    }

    /// [`Self::update`] from a state the caller has read already (one round trip less).
    pub async fn update_from<E: From<UpdateFailure>>(
        &self,
        mut current: Current<T>,
        mut decide: impl FnMut(T) -> Result<Change<T>, E>,
    ) -> Result<Updated<T>, E> {
        let id = current.state().id();
        for attempt in 0..Self::MAX_ATTEMPTS {
            if attempt > 0 {
                current = self.existing(id).await?;
            }
            let expected = current.version().next();
            match decide(current.state().clone())? {
                Change::Unchanged => return Ok(Updated::Unchanged(current.into_state())),
                Change::Save { state, events } => {
                    if state.version() != expected {
                        let wrong = anyhow::anyhow!(
                            "update of {id} produced version {} instead of {expected}",
                            state.version()
                        );
                        return Err(UpdateFailure::Database(wrong).into());
                    }
                    let saved = self
                        .save_next(&current, state.clone(), events)
                        .await
                        .map_err(UpdateFailure::Database)?;
                    if let Saved::Stored(_) = saved {
                        return Ok(Updated::Saved(state));
                    }
                }
            }
        }
        Err(UpdateFailure::Contended(Self::MAX_ATTEMPTS).into())
    }

    /// Applies a replica's new state only over the version before it (DESIGN.md §4).
    pub async fn apply_in_order(&self, state: T) -> anyhow::Result<Applied> {
        let (id, version) = (state.id(), state.version());
        self.apply_version(id, version, |_| Some(state)).await
    }

    /// Applies version `version` of `id`, made by `make` from the state held (none for a first
    /// version); `make` returning `None` means it cannot be made yet (early).
    ///
    /// The version this process applied last is remembered (`recent`): the next one is then
    /// stored without a read (insert, delete base), and a duplicate costs nothing. What another
    /// instance applied meanwhile makes that write fail its claim or its proof; the entity is then
    /// read, as without memory.
    pub async fn apply_version(
        &self,
        id: T::Id,
        version: Version,
        make: impl FnOnce(Option<&T>) -> Option<T>,
    ) -> anyhow::Result<Applied> {
        let remembered = self.recent.get(id);
        if remembered
            .as_ref()
            .is_some_and(|known| known.version >= version)
        {
            return Ok(Applied::Duplicate);
        }
        let Some(previous) = version.previous() else {
            // A first version is made from nothing and needs no read: its insert tells a
            // duplicate (see `apply_initial` for a late copy).
            let Some(state) = make(None) else {
                return Ok(Applied::Early);
            };
            return self.apply_initial(state).await;
        };
        let current = match remembered {
            Some(known) if known.version == previous => Some(Current::settled(known)),
            _ => self.current(id).await?,
        };
        match current {
            Some(current) if current.version() >= version => {
                self.remember_if_settled(&current);
                Ok(Applied::Duplicate)
            }
            Some(current) if current.version() == previous => {
                let Some(state) = make(Some(current.state())) else {
                    return Ok(Applied::Early);
                };
                Ok(match self.save_next(&current, state, Vec::new()).await? {
                    Saved::Stored(applied) => {
                        self.recent.remember(&applied);
                        Applied::Applied
                    }
                    // Whoever took this version applied the same event (or a later one, if what
                    // we remembered was behind: read next time).
                    Saved::Superseded => {
                        self.recent.forget(id);
                        Applied::Duplicate
                    }
                })
            }
            _ => Ok(Applied::Early),
        }
    }

    /// Remembers a replica's newest revision as read, if nothing else is stored beside it.
    fn remember_if_settled(&self, current: &Current<T>) {
        if current.base.is_none() && current.dead.is_empty() {
            self.recent.remember(&current.revision);
        }
    }

    /// Finishes what writers that stopped halfway left behind: held revisions are released (or,
    /// if stale, removed). Returns how many it released.
    pub async fn repair(&self) -> anyhow::Result<usize> {
        let cutoff = bson::DateTime::from_millis(
            bson::DateTime::now().timestamp_millis()
                - i64::try_from(Self::REPAIR_AFTER.as_millis()).unwrap_or(i64::MAX),
        );
        let held: Vec<Revision<T>> = self
            .revisions
            .find(doc! { "held": true, "written_at": { "$lt": cutoff } })
            .await
            .context("finding held revisions")?
            .try_collect()
            .await
            .context("reading held revisions")?;
        let mut released = 0;
        for revision in held {
            if self.prove_live(&revision).await? {
                self.release(&revision).await?;
                released += 1;
            } else {
                self.delete(&revision.key).await?;
            }
        }
        if released > 0 {
            tracing::warn!(
                collection = self.revisions.name(),
                released,
                "released the events of writes a stopped writer left unfinished"
            );
        }
        Ok(released)
    }

    /// A worker that runs [`Self::repair`] every `interval`.
    pub fn repairer(&self, interval: Duration) -> Worker {
        let store = self.clone();
        let name = format!("{} repair", self.revisions.name());
        Worker::new(name, move |stop: CancellationToken| async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = stop.cancelled() => return Ok(()),
                }
                if let Err(err) = store.repair().await {
                    tracing::warn!(error = %format!("{err:#}"), "store repair failed; will retry");
                }
            }
        })
    }

    /// Stores `state` as the revision after `current`, and proves it live.
    async fn save_next(
        &self,
        current: &Current<T>,
        state: T,
        events: Vec<OutboxEntry>,
    ) -> anyhow::Result<Saved<T>> {
        if let Some(base) = &current.base {
            // Its writer has not deleted it yet (or stopped): do it for them, so that our own
            // revision's base is only deleted once the base before it is gone.
            self.delete(&base.key).await?;
        }
        for dead in &current.dead {
            self.delete(dead).await?;
        }
        let is_final = state.is_final();
        let next = current.revision.successor(state, events);
        if !self.insert(&next).await? {
            return Ok(Saved::Superseded);
        }
        if is_final {
            self.delete_base_of(&next).await?;
        } else if !self.prove_live(&next).await? {
            tracing::debug!(key = %next.key, "a stale write was undone");
            self.delete(&next.key).await?;
            return Ok(Saved::Superseded);
        }
        self.hand_over(&next);
        Ok(Saved::Stored(Box::new(next)))
    }

    /// The first version of an entity only known from an event (a replica): one insert. A late
    /// copy of an event can insert it again after it was compacted; that copy is harmless — it
    /// carries no events, every read takes the newest revision, which is later — and the next
    /// change deletes it (`Current::dead`), so no read is spent here to tell it apart.
    async fn apply_initial(&self, state: T) -> anyhow::Result<Applied> {
        let revision = Revision::initial(state, Vec::new());
        Ok(if self.insert(&revision).await? {
            self.recent.remember(&revision);
            Applied::Applied
        } else {
            Applied::Duplicate
        })
    }

    /// Deletes the revision `revision` was made from; `false` if it was gone already.
    async fn delete_base_of(&self, revision: &Revision<T>) -> anyhow::Result<bool> {
        let Some(base) = revision.base() else {
            return Ok(false);
        };
        if self.delete(&base).await? {
            return Ok(true);
        }
        // Rarely reached (someone helped, or a stale write): the base may have been written by a
        // release whose revision ids had no nonce. Its nonce must match, as it did then.
        let Some((legacy, nonce)) = revision.legacy_base() else {
            return Ok(false);
        };
        let deleted = self
            .revisions
            .delete_one(doc! { "_id": &legacy, "nonce": nonce })
            .await
            .with_context(|| format!("compacting {legacy}"))?;
        Ok(deleted.deleted_count == 1)
    }

    /// Deletes the revision stored under `key` (a compacted base, a dead or a stale revision);
    /// `false` if it was gone already.
    async fn delete(&self, key: &str) -> anyhow::Result<bool> {
        let deleted = self
            .revisions
            .delete_one(doc! { "_id": key })
            .await
            .with_context(|| format!("deleting the revision {key}"))?;
        Ok(deleted.deleted_count == 1)
    }

    /// True when `revision` is its entity's live version or an ancestor of it (see module docs).
    async fn prove_live(&self, revision: &Revision<T>) -> anyhow::Result<bool> {
        if self.delete_base_of(revision).await? {
            return Ok(true);
        }
        let newest = self.current(revision.state.id()).await?;
        Ok(newest.is_some_and(|newest| newest.revision.descends_from(revision)))
    }

    /// Hands the events of a revision that stands (new, proven or final) to the relay, which
    /// clears them (and lifts a hold) once they are out. Should the relay refuse, a new entity's
    /// events wait for the relay's read, a held revision's for repair.
    fn hand_over(&self, revision: &Revision<T>) {
        if revision.outbox.outbox.is_empty() {
            return;
        }
        let id = Bson::String(revision.key.clone());
        if !self
            .signal
            .hand_over(self.revisions.name(), id, revision.outbox.outbox.clone())
        {
            tracing::debug!(key = %revision.key, "the relay has too many events waiting; repair will release these");
        }
    }

    /// Lifts the hold of a revision whose writer stopped before handing its events over, so the
    /// relay's read finds them.
    async fn release(&self, revision: &Revision<T>) -> anyhow::Result<()> {
        self.revisions
            .update_one(
                doc! { "_id": &revision.key },
                doc! { "$set": { "held": false, PENDING_FIELD: true } },
            )
            .await
            .with_context(|| format!("releasing the events of {}", revision.key))?;
        Ok(())
    }

    /// Inserts the revision (grouped with other writers' of the moment); `false` if its key is
    /// taken.
    async fn insert(&self, revision: &Revision<T>) -> anyhow::Result<bool> {
        self.inserts
            .insert(revision.clone())
            .await
            .with_context(|| format!("storing {}", revision.key))
    }
}

/// The newest of an entity's revisions, and whether the one before it is still stored.
fn newest<T: Versioned>(mut revisions: Vec<Revision<T>>) -> Option<Current<T>> {
    let newest_at = revisions
        .iter()
        .enumerate()
        .max_by_key(|(_, revision)| revision.version)
        .map(|(at, _)| at)?;
    let revision = revisions.swap_remove(newest_at);
    let (mut base, mut dead) = (None, Vec::new());
    for other in revisions {
        if base.is_none() && other.is_base_of(&revision) {
            base = Some(other);
        } else {
            dead.push(other.key);
        }
    }
    Some(Current {
        revision,
        base,
        dead,
    })
}
