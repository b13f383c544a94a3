use serde::{Deserialize, Serialize};

/// An order's life (DESIGN.md §2): `created`, then `complete` (paid) or `cancelled`; both final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Created,
    Cancelled,
    Complete,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Cancelled => "cancelled",
            Self::Complete => "complete",
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Self::Created)
    }
}

impl From<OrderStatus> for bson::Bson {
    fn from(status: OrderStatus) -> Self {
        bson::Bson::String(status.as_str().to_owned())
    }
}
