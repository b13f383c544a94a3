//! Group commit for inserts: writers inserting into one collection at the same moment share one
//! `insert` command, and each learns its own document's fate.
//!
//! FerretDB 1.24 spends most of an insert on the command around it, not the document: measured
//! here, `insert_one` costs 1.3–1.5 ms a document and `insert_many` of 16 documents 0.2–0.3 ms
//! a document, 0.14–0.2 ms at 32. So while one insert of a collection is on its way, the inserts
//! that come meanwhile wait for it and then go together, unordered (one document's duplicate key
//! does not stop the others). An insert that finds none on its way is sent at once: idle, the
//! grouping costs nothing; under load, it cuts the database's work per document several times.
//!
//! Every document is still its own write, as with `insert_one`: MongoDB and FerretDB both report
//! a unique-key violation per document of an unordered insert, so the insert of a version claim
//! stays the atomic compare-and-set it was (`crate::store`, "Why inserts").
//!
//! One command is on its way per collection at a time, so one that never gets an answer would
//! hold up every later insert of the collection (the driver has no socket timeout). A command
//! therefore gets [`GroupInsert::SEND_TIMEOUT`]: past it, its writers learn their documents' fate
//! is unknown, as after a lost connection, and the next group goes.

use std::{
    mem,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::Context;
use mongodb::{Collection, error::ErrorKind};
use serde::Serialize;
use tokio::sync::oneshot;

use super::DUPLICATE_KEY;
use crate::metrics;

/// One document's fate: stored (`true`), refused because a unique index already holds its key
/// (`false`), or not known to be stored (an error).
type Outcome = Result<bool, anyhow::Error>;

/// Inserts into one collection, grouped as described in the module docs. Clones share the group.
pub struct GroupInsert<T: Send + Sync> {
    collection: Collection<T>,
    queue: Arc<Mutex<Queue<T>>>,
    send_timeout: Duration,
}

impl<T: Send + Sync> Clone for GroupInsert<T> {
    fn clone(&self) -> Self {
        Self {
            collection: self.collection.clone(),
            queue: self.queue.clone(),
            send_timeout: self.send_timeout,
        }
    }
}

struct Queue<T> {
    waiting: Vec<Waiting<T>>,
    /// An insert is on its way; whoever comes meanwhile waits for the next.
    sending: bool,
}

struct Waiting<T> {
    document: T,
    reply: oneshot::Sender<Outcome>,
}

impl<T: Serialize + Send + Sync + 'static> GroupInsert<T> {
    /// The most documents one command carries: far below any server's limits on a command's
    /// documents and bytes for the documents our services write, and already past the point
    /// where a larger group saves anything measurable.
    pub const MAX_GROUP: usize = 128;
    /// How long a command may go unanswered: an insert of a group takes milliseconds, and a
    /// request gives up after 30 s anyway.
    pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

    pub fn new(collection: Collection<T>) -> Self {
        Self {
            collection,
            queue: Arc::new(Mutex::new(Queue {
                waiting: Vec::new(),
                sending: false,
            })),
            send_timeout: Self::SEND_TIMEOUT,
        }
    }

    /// The same, with commands unanswered after `timeout` given up on (tests use a tiny one).
    pub fn with_send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Inserts `document`: `true` once stored, `false` if a unique index already holds its key.
    pub async fn insert(&self, document: T) -> anyhow::Result<bool> {
        let (reply, outcome) = oneshot::channel();
        let start_sending = {
            let mut queue = self.lock();
            queue.waiting.push(Waiting { document, reply });
            !mem::replace(&mut queue.sending, true)
        };
        if start_sending {
            // A task of its own, so that a caller that goes away (a client hung up) never cuts
            // short an insert that carries other writers' documents.
            tokio::spawn(self.clone().send_all());
        }
        outcome
            .await
            .context("the insert was abandoned (the runtime is shutting down)")?
    }

    /// Sends what waits, group after group, until nothing does.
    async fn send_all(self) {
        let mut sending = Sending {
            queue: self.queue.clone(),
            finished: false,
        };
        loop {
            let group = {
                let mut queue = self.lock();
                if queue.waiting.is_empty() {
                    queue.sending = false;
                    break;
                }
                let take = queue.waiting.len().min(Self::MAX_GROUP);
                queue.waiting.drain(..take).collect::<Vec<_>>()
            };
            self.send(group).await;
        }
        sending.finished = true;
    }

    async fn send(&self, group: Vec<Waiting<T>>) {
        let (documents, replies): (Vec<T>, Vec<_>) = group
            .into_iter()
            .map(|waiting| (waiting.document, waiting.reply))
            .unzip();
        metrics::insert_command(&self.collection.namespace().to_string(), documents.len());
        let insert = self.collection.insert_many(&documents).ordered(false);
        let outcomes = match tokio::time::timeout(self.send_timeout, insert).await {
            Ok(Ok(_)) => documents.iter().map(|_| Ok(true)).collect(),
            Ok(Err(err)) => outcomes_of(&err, documents.len(), self.collection.name()),
            Err(_) => {
                let collection = self.collection.name();
                let timeout = self.send_timeout;
                tracing::warn!(
                    collection,
                    documents = documents.len(),
                    ?timeout,
                    "an insert got no answer in time; its writers are told their documents may or may not be stored"
                );
                (0..documents.len())
                    .map(|_| {
                        Err(anyhow::anyhow!(
                            "inserting into {collection}: no answer within {timeout:?}; the document may or may not be stored"
                        ))
                    })
                    .collect()
            }
        };
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // The writer may have gone away; its document's fate is the same either way.
            let _ = reply.send(outcome);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<T>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Should a sending task be dropped halfway (its runtime shutting down), the next insert must
/// start a new one rather than wait forever behind it.
struct Sending<T> {
    queue: Arc<Mutex<Queue<T>>>,
    finished: bool,
}

impl<T> Drop for Sending<T> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.sending = false;
        // Their replies drop with them: those writers learn their insert was abandoned.
        queue.waiting.clear();
    }
}

/// Each document's fate from a failed unordered insert: the documents the server names in its
/// write errors failed (a duplicate key is a refusal, not a failure), the others were stored. A
/// failure of the command as a whole (no answer) leaves every document's fate unknown.
fn outcomes_of(err: &mongodb::error::Error, documents: usize, collection: &str) -> Vec<Outcome> {
    let ErrorKind::InsertMany(failure) = err.kind.as_ref() else {
        return (0..documents)
            .map(|_| {
                Err(anyhow::Error::new(err.clone()).context(format!("inserting into {collection}")))
            })
            .collect();
    };
    let mut outcomes: Vec<Outcome> = (0..documents).map(|_| Ok(true)).collect();
    for write in failure.write_errors.iter().flatten() {
        if let Some(outcome) = outcomes.get_mut(write.index) {
            *outcome = if write.code == DUPLICATE_KEY {
                Ok(false)
            } else {
                Err(anyhow::anyhow!(
                    "inserting into {collection} failed ({}): {}",
                    write.code,
                    write.message
                ))
            };
        }
    }
    if let Some(concern) = &failure.write_concern_error {
        // Written, but not as durably as asked: the writer must not count on it.
        for outcome in outcomes
            .iter_mut()
            .filter(|outcome| matches!(outcome, Ok(true)))
        {
            *outcome = Err(anyhow::anyhow!(
                "inserting into {collection}: write concern failed ({}): {}",
                concern.code,
                concern.message
            ));
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use mongodb::{
        bson::{self, doc},
        error::{Error, InsertManyError},
    };

    use super::*;

    fn insert_many_error(failure: bson::Document) -> Error {
        let failure: InsertManyError = bson::from_document(failure).expect("an InsertManyError");
        Error::from(ErrorKind::InsertMany(failure))
    }

    fn fates(outcomes: Vec<Outcome>) -> Vec<Option<bool>> {
        outcomes.into_iter().map(Result::ok).collect()
    }

    #[test]
    fn each_document_gets_the_fate_its_write_error_names() {
        let err = insert_many_error(doc! { "writeErrors": [
            { "index": 1, "code": DUPLICATE_KEY, "errmsg": "E11000 duplicate key" },
            { "index": 2, "code": 121, "errmsg": "Document failed validation" },
        ] });
        assert_eq!(
            fates(outcomes_of(&err, 4, "tickets")),
            [Some(true), Some(false), None, Some(true)],
            "stored, refused (its key taken), failed, stored"
        );
    }

    #[test]
    fn a_write_concern_failure_leaves_no_document_counted_as_stored() {
        let err = insert_many_error(doc! {
            "writeErrors": [{ "index": 0, "code": DUPLICATE_KEY, "errmsg": "E11000" }],
            "writeConcernError": { "code": 64, "codeName": "WriteConcernFailed", "errmsg": "waiting for replication timed out" },
        });
        assert_eq!(
            fates(outcomes_of(&err, 3, "tickets")),
            [Some(false), None, None]
        );
    }

    #[test]
    fn a_command_that_failed_as_a_whole_fails_every_document() {
        let err = Error::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the connection was lost",
        ));
        assert_eq!(fates(outcomes_of(&err, 2, "tickets")), [None, None]);
    }
}
