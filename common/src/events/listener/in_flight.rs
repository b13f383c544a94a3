//! The events a listener holds: each running in its own task, or waiting behind the running
//! event with the same ordering key, so one entity's events run one after another in delivery
//! order and different entities' at once.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use async_nats::jetstream::{AckKind, Message};
use tokio::task::{self, JoinError, JoinSet};

use super::{
    Listener, ListenerOptions,
    settle::{Series, ack, process, release},
};
use crate::{
    events::{Envelope, Event},
    metrics::EventTermination,
};

/// A message with its decoded event.
pub(super) struct Delivery<E> {
    pub(super) message: Message,
    pub(super) envelope: Envelope<E>,
}

/// The events held: running in their own tasks, or waiting behind their key's running one.
pub(super) struct InFlight<L: Listener> {
    listener: Arc<L>,
    options: ListenerOptions,
    running: JoinSet<()>,
    keys: HashMap<task::Id, String>,
    /// One entry per key with a running handler: the key's next events, in delivery order.
    waiting: HashMap<String, VecDeque<Delivery<L::Event>>>,
    held: usize,
}

impl<L: Listener> InFlight<L> {
    pub(super) fn new(listener: L, options: ListenerOptions) -> Self {
        Self {
            listener: Arc::new(listener),
            options,
            running: JoinSet::new(),
            keys: HashMap::new(),
            waiting: HashMap::new(),
            held: 0,
        }
    }

    pub(super) fn room(&self) -> usize {
        self.options.held_at_most().saturating_sub(self.held)
    }

    /// `None` at once when nothing runs, which disables its `select!` branch for that round.
    pub(super) async fn join_next(&mut self) -> Option<Result<(task::Id, ()), JoinError>> {
        self.running.join_next_with_id().await
    }

    pub(super) async fn admit(&mut self, message: Message) {
        let Some(delivery) = decode::<L::Event>(message).await else {
            return;
        };
        self.held += 1;
        let key = delivery.envelope.data.ordering_key();
        match self.waiting.get_mut(&key) {
            Some(queue) => queue.push_back(delivery),
            None => {
                self.waiting.insert(key.clone(), VecDeque::new());
                self.start(key, delivery);
            }
        }
    }

    fn start(&mut self, key: String, delivery: Delivery<L::Event>) {
        let task = self.running.spawn(process(
            self.listener.clone(),
            self.options.clone(),
            delivery,
        ));
        self.keys.insert(task.id(), key);
    }

    /// A handler finished (its message is settled): its key's next event may start.
    pub(super) fn finished(&mut self, done: Result<(task::Id, ()), JoinError>) {
        self.held = self.held.saturating_sub(1);
        let id = match done {
            Ok((id, ())) => id,
            Err(err) => {
                // Only an abort gets here (panics are caught in `process`); the message comes
                // back after ack_wait.
                tracing::error!(error = %err, "an event handler task did not finish");
                err.id()
            }
        };
        let Some(key) = self.keys.remove(&id) else {
            return;
        };
        match self.waiting.get_mut(&key).and_then(VecDeque::pop_front) {
            Some(next) => self.start(key, next),
            None => {
                self.waiting.remove(&key);
            }
        }
    }

    /// Events waiting behind their key count against ack_wait too: tell JetStream they are
    /// still ours, or a long-running predecessor would get them redelivered elsewhere.
    pub(super) async fn keep_waiting_alive(&self) {
        for delivery in self.waiting.values().flatten() {
            ack(&delivery.message, AckKind::Progress).await;
        }
    }

    /// On shutdown: hand back what has not started, let what runs finish and settle.
    pub(super) async fn stop(&mut self) {
        for (_, queue) in self.waiting.drain() {
            for delivery in queue {
                release(&delivery.message).await;
                self.held = self.held.saturating_sub(1);
            }
        }
        while let Some(done) = self.running.join_next_with_id().await {
            self.finished(done);
        }
    }
}

/// The event of a message, or `None` for a malformed one, which is terminated: it can never
/// be handled, and redelivering it would only fill the log.
async fn decode<E: Event>(message: Message) -> Option<Delivery<E>> {
    match serde_json::from_slice(&message.payload) {
        Ok(envelope) => Some(Delivery { message, envelope }),
        Err(err) => {
            tracing::error!(
                subject = %E::SUBJECT, error = %err, payload = %String::from_utf8_lossy(&message.payload),
                "malformed event: terminated, it will not be redelivered"
            );
            ack(&message, AckKind::Term).await;
            Series::of(&message).terminated(EventTermination::Malformed);
            None
        }
    }
}
