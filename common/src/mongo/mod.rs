//! MongoDB access shared by every service: the client for the service's own database, the ping
//! that tells whether the server answers (start-up waits on it, `/readyz` asks it), recognising
//! a unique-index violation, and inserts grouped into shared commands ([`GroupInsert`]).

mod group_insert;

use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use mongodb::{
    Client, Collection, Database, IndexModel,
    bson::{Document, doc},
    error::{ErrorKind, WriteFailure},
    options::{ClientOptions, IndexOptions},
};

pub use group_insert::GroupInsert;

use crate::{
    config::{self, MongoConfig},
    server::ReadinessProbe,
};

/// MongoDB's error code for a write that breaks a unique index.
const DUPLICATE_KEY: i32 = 11000;
/// MongoDB's error code for a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;

/// The service's database. The driver connects lazily and reconnects by itself, so this does
/// not wait for the server (nor fail when it is down): [`ping`] tells whether it answers. It
/// fails only for a URI the driver cannot use.
pub async fn connect(config: &MongoConfig, app_name: &str) -> anyhow::Result<Database> {
    let mut options = ClientOptions::parse(&config.uri).await.with_context(|| {
        format!(
            "MONGO_URI {} is not a valid MongoDB URI",
            config::redact(&config.uri)
        )
    })?;
    options.app_name = Some(app_name.to_owned());
    options.connect_timeout = Some(Duration::from_secs(5));
    options.server_selection_timeout = Some(Duration::from_secs(10));
    let client = Client::with_options(options).context("building the MongoDB client")?;
    Ok(client.database(&config.database))
}

/// Creates the index `name` on `keys` (unique if asked) unless the collection already has an index of that name.
///
/// Index names should be unique per database (FerretDB's SQLite backend wants it so), and
/// existing ones are not created again: FerretDB 1.24 drops the connection on a `createIndexes`
/// that repeats an existing index, which every restart would do.
pub async fn ensure_index<T: Send + Sync>(
    collection: &Collection<T>,
    keys: Document,
    name: &str,
    unique: bool,
) -> anyhow::Result<()> {
    let existing = match collection.list_index_names().await {
        Ok(names) => names,
        // A collection that does not exist yet has no indexes.
        Err(err) if matches!(err.kind.as_ref(), ErrorKind::Command(command) if command.code == NAMESPACE_NOT_FOUND) => {
            Vec::new()
        }
        Err(err) => {
            return Err(anyhow::Error::new(err)
                .context(format!("listing the indexes of {}", collection.name())));
        }
    };
    if existing.iter().any(|existing| existing == name) {
        return Ok(());
    }
    let index = IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(unique)
                .build(),
        )
        .build();
    match collection.create_index(index).await {
        Ok(_) => Ok(()),
        Err(err) => Err(anyhow::Error::new(err).context(format!(
            "creating the index {name} on {}",
            collection.name()
        ))),
    }
}

/// True when a write failed only because a unique index already holds the value.
pub fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(insert) => insert
            .write_errors
            .iter()
            .flatten()
            .any(|write| write.code == DUPLICATE_KEY),
        _ => false,
    }
}

/// One round trip to the server: fails while it is down or unreachable (after the client's
/// server selection timeout), succeeds as soon as it answers again.
pub async fn ping(db: &Database) -> anyhow::Result<()> {
    db.run_command(doc! { "ping": 1 })
        .await
        .context("MongoDB did not answer a ping")?;
    Ok(())
}

impl ReadinessProbe for Database {
    fn name(&self) -> &'static str {
        "mongodb"
    }

    fn check(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(ping(self))
    }
}
