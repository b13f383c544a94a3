//! What a store does once to a database written by an earlier release: give every revision that
//! shows on a list its shelf (revisions had none before), and delete the revisions that are no
//! longer live — bases left behind by the release whose revision ids had no nonce, which its
//! successors could not find to compact. A marker in `store_migrations` says it is done, so later
//! starts do not read the collection again.

use std::collections::BTreeMap;

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::{
    Database,
    bson::{Document, doc},
};

use super::{Current, Revision, Versioned, VersionedStore, newest};
use crate::mongo::is_duplicate_key;

impl<T: Versioned> VersionedStore<T> {
    pub(super) async fn upgrade(&self, db: &Database) -> anyhow::Result<()> {
        let migrations = db.collection::<Document>("store_migrations");
        let marker = format!("{}:shelves", self.revisions.name());
        let done = migrations
            .find_one(doc! { "_id": &marker })
            .await
            .context("reading the store's migrations")?;
        if done.is_some() {
            return Ok(());
        }
        let revisions: Vec<Revision<T>> = self
            .revisions
            .find(doc! {})
            .await
            .context("reading the revisions to upgrade")?
            .try_collect()
            .await
            .context("reading the revisions to upgrade")?;
        let mut by_entity: BTreeMap<String, Vec<Revision<T>>> = BTreeMap::new();
        for revision in revisions {
            by_entity
                .entry(revision.state.id().to_string())
                .or_default()
                .push(revision);
        }
        let (mut shelved, mut deleted) = (0_usize, 0_usize);
        for current in by_entity.into_values().filter_map(newest) {
            let (shelve, delete) = upgrade_of(current);
            for (key, shelf) in shelve {
                self.shelve(&key, shelf).await?;
                shelved += 1;
            }
            for key in delete {
                deleted += usize::from(self.delete(&key).await?);
            }
        }
        match migrations.insert_one(doc! { "_id": &marker }).await {
            Ok(_) => {}
            Err(err) if is_duplicate_key(&err) => {}
            Err(err) => return Err(anyhow::Error::new(err).context("recording the upgrade")),
        }
        if shelved + deleted > 0 {
            tracing::info!(
                collection = self.revisions.name(),
                shelved,
                deleted,
                "upgraded revisions stored by an earlier release"
            );
        }
        Ok(())
    }

    /// Racing a writer's release of this revision on FerretDB (which writes whole documents) can
    /// undo the release — repair redoes it — or lose the shelf until the entity's next change;
    /// only at the first start after the upgrade.
    async fn shelve(&self, key: &str, shelf: String) -> anyhow::Result<()> {
        self.revisions
            .update_one(doc! { "_id": key }, doc! { "$set": { "shelf": shelf } })
            .await
            .with_context(|| format!("shelving {key}"))?;
        Ok(())
    }
}

/// Which of an entity's revisions need a shelf (key and shelf), and which keys are dead. A page
/// shows what [`Current::into_settled_state`] says: the newest revision, or its base while the
/// newest is held. Those two are shelved; any other revision is dead, and a base whose successor
/// is settled is only waiting for its writer (or for nobody, after the legacy release) to delete
/// it.
fn upgrade_of<T: Versioned>(current: Current<T>) -> (Vec<(String, String)>, Vec<String>) {
    let Current {
        revision,
        base,
        mut dead,
    } = current;
    let mut shelve = Vec::new();
    match base {
        Some(base) if revision.held => shelve.push(base),
        Some(base) => dead.push(base.key),
        None => {}
    }
    shelve.push(revision);
    let shelve = shelve
        .into_iter()
        .filter(|revision| revision.shelf.is_none())
        .filter_map(|revision| Some((revision.key, revision.state.shelf()?)))
        .collect();
    (shelve, dead)
}
