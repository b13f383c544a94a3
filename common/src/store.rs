//! The versioned store: how every service keeps entities that change over time, with optimistic
//! versions (DESIGN.md §4) and the outbox, on any MongoDB-wire server.
//!
//! Why not a compare-and-set `update_one({_id, version: v-1})`? It is atomic on MongoDB, but not
//! on FerretDB 1.x (the development and test server), with either of its backends: of twenty
//! concurrent updates of one version, two or three report a match (measured 2026-11-28). The
//! one write that is atomic everywhere is an insert under a unique key. So each change of an entity
//! is an insert of its next *revision* — the whole new state and the events it causes — keyed by
//! `(entity, version)`: of two writers racing for version `v`, exactly one insert succeeds, and
//! the state and its events are stored together in that one write.
//!
//! The `current` collection holds the latest state of each entity for queries. It is a projection
//! of the revisions: every writer brings it up to date after its insert (and checks again until
//! it holds the newest revision), and `project_pending` repairs it after a crash.

use std::{fmt, marker::PhantomData};

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    bson::{Bson, Document, doc},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    domain::Version,
    events::{HandleError, OutboxEntry, OutboxSignal, outbox::Outbox},
    mongo::{ensure_index, is_duplicate_key},
};

/// An entity kept by a [`VersionedStore`]: serialized with its id as `_id`.
pub trait Versioned: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    type Id: Into<Bson> + Copy + fmt::Display + Send + Sync;

    fn id(&self) -> Self::Id;
    fn version(&self) -> Version;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct Revision<T> {
    /// `<entity id>:<zero-padded version>`: unique, and sorts by entity then version.
    #[serde(rename = "_id")]
    key: String,
    entity: Bson,
    version: Version,
    state: T,
    #[serde(flatten)]
    outbox: Outbox,
    /// Set once `current` holds this revision or a later one.
    #[serde(default)]
    projected: bool,
}

fn revision_key(entity: impl fmt::Display, version: Version) -> String {
    format!("{entity}:{:012}", version.get())
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

#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error("no such entity")]
    Missing,
    #[error(transparent)]
    Refused(E),
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

/// Entities of one kind: `<name>_revisions` (the truth) and `<name>` (the latest states).
pub struct VersionedStore<T: Versioned> {
    revisions: Collection<Revision<T>>,
    current: Collection<T>,
    signal: OutboxSignal,
    _entity: PhantomData<T>,
}

impl<T: Versioned> Clone for VersionedStore<T> {
    fn clone(&self) -> Self {
        Self {
            revisions: self.revisions.clone(),
            current: self.current.clone(),
            signal: self.signal.clone(),
            _entity: PhantomData,
        }
    }
}

impl<T: Versioned> VersionedStore<T> {
    /// How often an update retries after losing a race for the next version.
    pub const MAX_ATTEMPTS: usize = 10;

    pub async fn open(db: &Database, name: &str, signal: OutboxSignal) -> anyhow::Result<Self> {
        let revisions = db.collection::<Revision<T>>(&format!("{name}_revisions"));
        let by_entity = format!("{name}_by_entity");
        ensure_index(
            &revisions,
            doc! { "entity": 1, "version": -1 },
            &by_entity,
            false,
        )
        .await?;
        let unprojected = format!("{name}_unprojected");
        ensure_index(&revisions, doc! { "projected": 1 }, &unprojected, false).await?;
        Ok(Self {
            revisions,
            current: db.collection(name),
            signal,
            _entity: PhantomData,
        })
    }

    /// The latest states, for queries. Writes go through this store only.
    pub fn current(&self) -> &Collection<T> {
        &self.current
    }

    /// The revisions, as the outbox relay reads them.
    pub fn outbox_collection(&self) -> Collection<Document> {
        self.revisions.clone_with_type()
    }

    /// The authoritative latest state.
    pub async fn latest(&self, id: T::Id) -> anyhow::Result<Option<T>> {
        let revision = self
            .revisions
            .find_one(doc! { "entity": id.into() })
            .sort(doc! { "version": -1 })
            .await
            .with_context(|| format!("loading the latest revision of {id}"))?;
        Ok(revision.map(|revision| revision.state))
    }

    /// Stores a new entity at its initial version; `false` if it already exists.
    pub async fn create(&self, state: T, events: Vec<OutboxEntry>) -> anyhow::Result<bool> {
        anyhow::ensure!(
            state.version() == Version::INITIAL,
            "a new entity starts at version 0"
        );
        self.insert_revision(state, events).await
    }

    /// Reads the latest state, lets `decide` derive the next one, and stores it as the next
    /// version; if another writer took that version first, starts again from the newer state.
    pub async fn update<E>(
        &self,
        id: T::Id,
        mut decide: impl FnMut(T) -> Result<Change<T>, E>,
    ) -> Result<Updated<T>, UpdateError<E>> {
        for _ in 0..Self::MAX_ATTEMPTS {
            let current = self.latest(id).await?.ok_or(UpdateError::Missing)?;
            let expected = current.version().next();
            match decide(current.clone()).map_err(UpdateError::Refused)? {
                Change::Unchanged => return Ok(Updated::Unchanged(current)),
                Change::Save { state, events } => {
                    if state.version() != expected {
                        return Err(anyhow::anyhow!(
                            "update of {id} produced version {} instead of {expected}",
                            state.version()
                        )
                        .into());
                    }
                    if self.insert_revision(state.clone(), events).await? {
                        return Ok(Updated::Saved(state));
                    }
                }
            }
        }
        Err(UpdateError::Contended(Self::MAX_ATTEMPTS))
    }

    /// Applies a replica's new state only over the version before it (DESIGN.md §4).
    pub async fn apply_in_order(&self, state: T) -> anyhow::Result<Applied> {
        let version = state.version();
        let held = self.latest(state.id()).await?.map(|held| held.version());
        let next_in_line = match (held, version.previous()) {
            (Some(held), _) if held >= version => return Ok(Applied::Duplicate),
            (Some(held), Some(previous)) => held == previous,
            (None, None) => true,
            (Some(_), None) | (None, Some(_)) => false,
        };
        if !next_in_line {
            return Ok(Applied::Early);
        }
        Ok(if self.insert_revision(state, Vec::new()).await? {
            Applied::Applied
        } else {
            Applied::Duplicate
        })
    }

    /// Inserts the revision; `false` if that version of the entity already exists.
    async fn insert_revision(&self, state: T, events: Vec<OutboxEntry>) -> anyhow::Result<bool> {
        let (id, version) = (state.id(), state.version());
        let has_events = !events.is_empty();
        let revision = Revision {
            key: revision_key(id, version),
            entity: id.into(),
            version,
            state,
            outbox: Outbox::new(events),
            projected: false,
        };
        match self.revisions.insert_one(&revision).await {
            Ok(_) => {}
            Err(err) if is_duplicate_key(&err) => return Ok(false),
            Err(err) => {
                return Err(anyhow::Error::new(err).context(format!("storing {id} v{version}")));
            }
        }
        if has_events {
            self.signal.notify();
        }
        self.project(id).await?;
        Ok(true)
    }

    /// Brings `current` up to the latest revision of `id`. Re-checks after writing, because a
    /// slower writer may have put an older state back in the meantime.
    async fn project(&self, id: T::Id) -> anyhow::Result<()> {
        for _ in 0..Self::MAX_ATTEMPTS {
            let Some(latest) = self.latest(id).await? else {
                return Ok(());
            };
            let shown = self
                .current
                .find_one(doc! { "_id": id.into() })
                .await
                .with_context(|| format!("reading the current state of {id}"))?
                .map(|state| state.version());
            if shown >= Some(latest.version()) {
                self.revisions
                    .update_many(
                        doc! { "entity": id.into(), "projected": false, "version": { "$lte": latest.version() } },
                        doc! { "$set": { "projected": true } },
                    )
                    .await
                    .context("marking revisions projected")?;
                return Ok(());
            }
            match self
                .current
                .replace_one(doc! { "_id": id.into() }, &latest)
                .upsert(true)
                .await
            {
                Ok(_) => {}
                // Two first projections raced to insert: the check above runs again.
                Err(err) if is_duplicate_key(&err) => {}
                Err(err) => return Err(anyhow::Error::new(err).context(format!("projecting {id}"))),
            }
        }
        anyhow::bail!("{id} kept changing while projecting; the repair pass will finish it")
    }

    /// Projects revisions a crashed writer left unprojected; returns how many entities it fixed.
    pub async fn project_pending(&self) -> anyhow::Result<usize> {
        let entities: Vec<Bson> = self
            .revisions
            .clone_with_type::<Document>()
            .find(doc! { "projected": false })
            .projection(doc! { "entity": 1 })
            .await
            .context("finding unprojected revisions")?
            .try_filter_map(|doc| async move { Ok(doc.get("entity").cloned()) })
            .try_collect()
            .await
            .context("reading unprojected revisions")?;
        let mut fixed = 0;
        for entity in dedup(entities) {
            let Some(state) = self.latest_by_bson(&entity).await? else {
                continue;
            };
            self.project(state.id()).await?;
            fixed += 1;
        }
        if fixed > 0 {
            tracing::warn!(
                collection = self.current.name(),
                fixed,
                "finished writes a previous run left half done"
            );
        }
        Ok(fixed)
    }

    async fn latest_by_bson(&self, entity: &Bson) -> anyhow::Result<Option<T>> {
        let revision = self
            .revisions
            .find_one(doc! { "entity": entity.clone() })
            .sort(doc! { "version": -1 })
            .await
            .context("loading a latest revision")?;
        Ok(revision.map(|revision| revision.state))
    }
}

fn dedup(mut values: Vec<Bson>) -> Vec<Bson> {
    let mut seen = Vec::with_capacity(values.len());
    values.retain(|value| {
        if seen.contains(value) {
            false
        } else {
            seen.push(value.clone());
            true
        }
    });
    values
}
