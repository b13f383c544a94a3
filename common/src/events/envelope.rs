use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Event;

/// An event's unique id: it becomes `Nats-Msg-Id`, so a re-publish is dropped by JetStream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// An id derived from something unique in the domain (an order's expiry fires once per order).
    pub fn derived(kind: &str, key: impl fmt::Display) -> Self {
        Self(format!("{kind}:{key}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What travels on the wire: the payload with its id and the time it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<E> {
    pub id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub data: E,
}

impl<E: Event> Envelope<E> {
    pub fn new(data: E) -> Self {
        Self::with_id(EventId::new(), data)
    }

    pub fn with_id(id: EventId, data: E) -> Self {
        Self {
            id,
            occurred_at: Utc::now(),
            data,
        }
    }
}
