use std::fmt;

use serde::{Deserialize, Serialize};

/// An entity's version for optimistic concurrency (DESIGN.md §4): 0 when created, +1 per change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(i64);

impl Version {
    pub const INITIAL: Self = Self(0);

    pub fn new(value: i64) -> Option<Self> {
        (value >= 0).then_some(Self(value))
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The version a replica must hold to apply this one; `None` for the initial version.
    pub fn previous(self) -> Option<Self> {
        (self.0 > 0).then(|| Self(self.0 - 1))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Version> for bson::Bson {
    fn from(version: Version) -> Self {
        bson::Bson::Int64(version.0)
    }
}
