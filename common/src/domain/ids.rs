//! Entity ids: MongoDB ObjectIds, written everywhere (JSON, events, the databases) as their
//! 24-character lowercase hex form. One newtype per entity so an order id cannot be passed where
//! a ticket id belongs.

use std::{fmt, str::FromStr};

use bson::oid::ObjectId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid id (24 hexadecimal characters)")]
pub struct IdError(pub String);

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ObjectId);

        impl $name {
            /// A fresh, unique id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(ObjectId::new())
            }

            pub fn parse(raw: &str) -> Result<Self, IdError> {
                raw.parse()
            }

            pub fn to_hex(&self) -> String {
                self.0.to_hex()
            }

            /// The id's 12 bytes, e.g. to spread entities by a hash of their id.
            pub fn bytes(&self) -> [u8; 12] {
                self.0.bytes()
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                // ObjectId::parse_str also accepts uppercase; the canonical form is lowercase.
                if raw.len() != 24 || !raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    return Err(IdError(raw.to_owned()));
                }
                ObjectId::parse_str(raw).map(Self).map_err(|_| IdError(raw.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.to_hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }

        impl From<$name> for bson::Bson {
            fn from(id: $name) -> Self {
                bson::Bson::String(id.to_hex())
            }
        }
    };
}

entity_id!(
    /// A user, issued by auth.
    UserId
);
entity_id!(
    /// A ticket, issued by tickets.
    TicketId
);
entity_id!(
    /// An order, issued by orders.
    OrderId
);
entity_id!(
    /// A payment, issued by payments.
    PaymentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_hex_form() {
        let id = TicketId::new();
        assert_eq!(TicketId::parse(&id.to_string()), Ok(id));
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<TicketId>(&json).expect("parses"), id);
    }

    #[test]
    fn malformed_ids_are_refused() {
        for raw in [
            "",
            "abc",
            "zzzzzzzzzzzzzzzzzzzzzzzz",
            "64B0F7A2C1D3E4F5A6B7C8D9",
            "64b0f7a2c1d3e4f5a6b7c8d9a",
        ] {
            assert!(OrderId::parse(raw).is_err(), "{raw:?} must be refused");
        }
        assert!(OrderId::parse("64b0f7a2c1d3e4f5a6b7c8d9").is_ok());
    }
}
