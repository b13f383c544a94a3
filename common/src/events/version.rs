//! Optimistic version checks for replicas (DESIGN.md §4): an update with version `v` applies only
//! over `v-1`, in one compare-and-set.

use mongodb::{
    Collection,
    bson::{Bson, Document, doc},
};

use super::HandleError;
use crate::{domain::Version, mongo::is_duplicate_key};

/// What became of a versioned update.
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

/// Inserts version 0 of a replica; a second insert of the same id is a duplicate.
pub async fn insert_initial(
    collection: &Collection<Document>,
    document: Document,
) -> mongodb::error::Result<Applied> {
    match collection.insert_one(document).await {
        Ok(_) => Ok(Applied::Applied),
        Err(err) if is_duplicate_key(&err) => Ok(Applied::Duplicate),
        Err(err) => Err(err),
    }
}

/// Applies `set` (fields to overwrite) to the replica `id` as `version`, only over `version - 1`.
pub async fn apply_in_order(
    collection: &Collection<Document>,
    id: impl Into<Bson>,
    version: Version,
    mut set: Document,
) -> mongodb::error::Result<Applied> {
    let id = id.into();
    let Some(previous) = version.previous() else {
        return Ok(Applied::Duplicate);
    };
    set.insert("version", version);
    let result = collection
        .update_one(
            doc! { "_id": id.clone(), "version": previous },
            doc! { "$set": set },
        )
        .await?;
    if result.matched_count == 1 {
        return Ok(Applied::Applied);
    }
    let held = collection
        .find_one(doc! { "_id": id })
        .projection(doc! { "version": 1 })
        .await?
        .and_then(|doc| doc.get_i64("version").ok());
    Ok(match held {
        Some(held) if held >= version.get() => Applied::Duplicate,
        _ => Applied::Early,
    })
}
