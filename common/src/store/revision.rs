//! One stored revision of an entity: the document format of a [`VersionedStore`](super::VersionedStore)
//! collection, and the rules that tell a live revision from a stale writer's copy.

use std::fmt;

use mongodb::bson::{self, Bson};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::Versioned;
use crate::{
    domain::Version,
    events::{OutboxEntry, outbox::Outbox},
};

/// How many ancestors' nonces a revision remembers. A writer whose successors moved on by more
/// than this between its insert and its check cannot prove its revision was live, and retries.
pub const LINEAGE: usize = 16;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub(super) struct Revision<T> {
    /// `<entity id>:<zero-padded version>:<nonce>`: never used twice, so a write or delete by
    /// `_id` reaches this revision or nothing — also on FerretDB, which reads a filter's match
    /// and then writes by `_id` alone. The claim of a version is the unique `(entity, version)`.
    #[serde(rename = "_id")]
    pub key: String,
    pub entity: Bson,
    pub version: Version,
    /// Random and this revision's own: after compaction frees a version, a stale writer's copy
    /// of that version has another nonce (and so another `_id`).
    pub nonce: i64,
    /// This revision's nonce and its ancestors', newest first (at most [`LINEAGE`]).
    pub lineage: Vec<i64>,
    /// The entity's state; filters on it read `state.<field>`.
    pub state: T,
    /// The list the state shows on ([`Versioned::shelf`]), for a page to find it by equality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelf: Option<String>,
    #[serde(flatten)]
    pub outbox: Outbox,
    /// Its events are still its writer's: not yet proven the live next version, or proven and
    /// with the relay (which lifts the hold once they are out). Repair releases what a writer
    /// that stopped left held. The field is `events::outbox::HELD_FIELD`.
    pub held: bool,
    pub written_at: bson::DateTime,
}

pub(super) fn key(entity: impl fmt::Display, version: Version, nonce: i64) -> String {
    format!("{entity}:{:012}:{:016x}", version.get(), nonce)
}

/// The `_id` releases before revision ids carried their nonce gave a revision. Such revisions
/// are still read and compacted (by `_id` and nonce: no new revision takes that form any more).
fn legacy_key(entity: impl fmt::Display, version: Version) -> String {
    format!("{entity}:{:012}", version.get())
}

fn fresh_nonce() -> i64 {
    // The first half of a v4 UUID: 64 random bits, reinterpreted as the integer BSON stores.
    i64::from_ne_bytes(uuid::Uuid::new_v4().as_u64_pair().0.to_ne_bytes())
}

impl<T: Versioned> Revision<T> {
    /// The first revision of a new entity, its events pending at once: nothing can prove it
    /// stale, so a relay started after a crash publishes them without waiting for repair.
    pub fn initial(state: T, events: Vec<OutboxEntry>) -> Self {
        let nonce = fresh_nonce();
        Self {
            key: key(state.id(), state.version(), nonce),
            entity: state.id().into(),
            version: state.version(),
            nonce,
            lineage: vec![nonce],
            shelf: state.shelf(),
            state,
            outbox: Outbox::new(events),
            held: false,
            written_at: bson::DateTime::now(),
        }
    }

    /// The revision after `self`. It carries `self`'s unpublished events ahead of its own, so
    /// `self` may be deleted at once without losing any (a repeat publish is dropped by its id).
    /// Held while it has events, until its writer hands them over.
    pub fn successor(&self, state: T, events: Vec<OutboxEntry>) -> Self {
        let nonce = fresh_nonce();
        let lineage = std::iter::once(nonce)
            .chain(self.lineage.iter().copied())
            .take(LINEAGE)
            .collect();
        let mut entries = self.outbox.outbox.clone();
        entries.extend(events);
        let has_events = !entries.is_empty();
        Self {
            key: key(state.id(), state.version(), nonce),
            entity: state.id().into(),
            version: state.version(),
            nonce,
            lineage,
            shelf: state.shelf(),
            state,
            outbox: Outbox::new(entries),
            held: has_events,
            written_at: bson::DateTime::now(),
        }
    }

    /// The key of the revision this one was made from.
    pub fn base(&self) -> Option<String> {
        let version = self.version.previous()?;
        let nonce = *self.lineage.get(1)?;
        Some(key(self.state.id(), version, nonce))
    }

    /// The legacy `_id` and the nonce of the revision this one was made from, for a base written
    /// by a release before revision ids carried their nonce.
    pub fn legacy_base(&self) -> Option<(String, i64)> {
        let version = self.version.previous()?;
        let nonce = *self.lineage.get(1)?;
        Some((legacy_key(self.state.id(), version), nonce))
    }

    /// True when `self` is the revision `successor` was made from (whatever the form of its `_id`).
    pub fn is_base_of(&self, successor: &Self) -> bool {
        successor.version.previous() == Some(self.version)
            && successor.lineage.get(1) == Some(&self.nonce)
    }

    /// True when `self`, the newest revision of its entity, is `revision` or descends from it.
    pub fn descends_from(&self, revision: &Self) -> bool {
        let Some(distance) = self.version.get().checked_sub(revision.version.get()) else {
            return false;
        };
        usize::try_from(distance)
            .ok()
            .and_then(|distance| self.lineage.get(distance))
            == Some(&revision.nonce)
    }
}
