//! The six events of DESIGN.md §4. Each payload type names its subject through [`Event`], so a
//! payload can only ever be published on its own subject.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::domain::{Money, OrderId, OrderStatus, PaymentId, TicketId, UserId, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    TicketCreated,
    TicketUpdated,
    OrderCreated,
    OrderCancelled,
    ExpirationComplete,
    PaymentCreated,
}

impl Subject {
    pub const ALL: [Subject; 6] = [
        Self::TicketCreated,
        Self::TicketUpdated,
        Self::OrderCreated,
        Self::OrderCancelled,
        Self::ExpirationComplete,
        Self::PaymentCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TicketCreated => "ticket.created",
            Self::TicketUpdated => "ticket.updated",
            Self::OrderCreated => "order.created",
            Self::OrderCancelled => "order.cancelled",
            Self::ExpirationComplete => "expiration.complete",
            Self::PaymentCreated => "payment.created",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|subject| subject.as_str() == raw)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payload of the catalogue, tied to its subject.
pub trait Event: Serialize + DeserializeOwned + fmt::Debug + Clone + Send + Sync + 'static {
    const SUBJECT: Subject;

    /// The entity whose history this event is part of. A listener handles events with the same
    /// key one after another, in delivery order, and different keys at once: a ticket's v0 and
    /// v1 pulled together must not race, or v1 finds no v0 and is wrongly "early".
    fn ordering_key(&self) -> String;
}

/// `event!(Payload => Subject, ordered by field)`: the payload's subject and the field naming
/// the entity it belongs to.
macro_rules! event {
    ($name:ident => $subject:ident, ordered by $($key:ident).+) => {
        impl Event for $name {
            const SUBJECT: Subject = Subject::$subject;

            fn ordering_key(&self) -> String {
                self.$($key).+.to_string()
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCreated {
    pub id: TicketId,
    pub version: Version,
    pub title: String,
    pub price: Money,
    pub user_id: UserId,
}
event!(TicketCreated => TicketCreated, ordered by id);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketUpdated {
    pub id: TicketId,
    pub version: Version,
    pub title: String,
    pub price: Money,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
}
event!(TicketUpdated => TicketUpdated, ordered by id);

/// The ticket as an order event carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedTicket {
    pub id: TicketId,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub id: OrderId,
    pub version: Version,
    pub status: OrderStatus,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub ticket: OrderedTicket,
}
event!(OrderCreated => OrderCreated, ordered by id);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledTicket {
    pub id: TicketId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub id: OrderId,
    pub version: Version,
    pub ticket: CancelledTicket,
}
event!(OrderCancelled => OrderCancelled, ordered by id);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpirationComplete {
    pub order_id: OrderId,
}
// Expiry and payment change the order, so they queue with its other events.
event!(ExpirationComplete => ExpirationComplete, ordered by order_id);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreated {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub stripe_id: String,
}
event!(PaymentCreated => PaymentCreated, ordered by order_id);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse_back() {
        for subject in Subject::ALL {
            assert_eq!(Subject::parse(subject.as_str()), Some(subject));
        }
        assert_eq!(Subject::parse("ticket.deleted"), None);
    }

    #[test]
    fn events_are_ordered_by_the_entity_they_change() {
        let ticket = TicketId::new();
        let order = OrderId::new();
        let created = TicketCreated {
            id: ticket,
            version: Version::INITIAL,
            title: "t".into(),
            price: Money::from_cents(100).expect("money"),
            user_id: UserId::new(),
        };
        let cancelled = OrderCancelled {
            id: order,
            version: Version::INITIAL,
            ticket: CancelledTicket { id: ticket },
        };
        let expired = ExpirationComplete { order_id: order };
        let paid = PaymentCreated {
            id: PaymentId::new(),
            order_id: order,
            stripe_id: "ch_1".into(),
        };
        assert_eq!(created.ordering_key(), ticket.to_string());
        assert_eq!(cancelled.ordering_key(), order.to_string());
        assert_eq!(expired.ordering_key(), order.to_string());
        assert_eq!(paid.ordering_key(), order.to_string());
    }

    #[test]
    fn payloads_are_camel_case_with_money_in_dollars() {
        let event = OrderCreated {
            id: OrderId::parse("64b0f7a2c1d3e4f5a6b7c8d9").expect("id"),
            version: Version::INITIAL,
            status: OrderStatus::Created,
            user_id: UserId::parse("64b0f7a2c1d3e4f5a6b7c8da").expect("id"),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
            ticket: OrderedTicket {
                id: TicketId::parse("64b0f7a2c1d3e4f5a6b7c8db").expect("id"),
                price: Money::from_cents(1999).expect("money"),
            },
        };
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "id": "64b0f7a2c1d3e4f5a6b7c8d9",
                "version": 0,
                "status": "created",
                "userId": "64b0f7a2c1d3e4f5a6b7c8da",
                "expiresAt": "2027-01-15T08:00:00Z",
                "ticket": { "id": "64b0f7a2c1d3e4f5a6b7c8db", "price": 19.99 },
            })
        );
        assert_eq!(
            serde_json::from_value::<OrderCreated>(json).expect("parses"),
            event
        );
    }
}
