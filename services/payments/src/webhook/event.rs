//! The part of a Stripe event the webhook acts on. Only `payment_intent.succeeded` moves
//! anything: the payment is recorded once the money is in. Every other type (a failed attempt,
//! `processing`, `requires_action`, charges, refunds) is acknowledged and left alone, whenever it
//! arrives: Stripe does not deliver in order, and a failed attempt delivered after the success
//! changes nothing.
//!
//! Read by hand rather than with async-stripe's event types, which would build every resource of
//! the API: the webhook needs six fields.

use std::collections::HashMap;

use serde::Deserialize;
use ticketing_common::domain::{Money, OrderId};

use crate::domain::{ChargeId, PaymentIntentId};

/// The metadata key the PaymentIntent carries its order under (set by `Gateway::create_intent`).
pub const ORDER_METADATA_KEY: &str = "order_id";

pub const PAYMENT_INTENT_SUCCEEDED: &str = "payment_intent.succeeded";

/// A verified delivery, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeEvent {
    /// One of our orders was paid.
    IntentSucceeded(SucceededIntent),
    /// Anything else: acknowledged, nothing to do.
    Ignored { id: String, kind: String },
}

/// A PaymentIntent of ours that succeeded: the charge that took the money, for how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SucceededIntent {
    pub event_id: String,
    pub intent: PaymentIntentId,
    pub order: OrderId,
    pub charge: ChargeId,
    pub amount: Money,
}

/// A signed body that is not an event we can act on: Stripe would not send it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the body is not a Stripe event: {0}")]
    NotAnEvent(String),
    #[error("event {event}: the succeeded PaymentIntent has no usable {what}")]
    Incomplete { event: String, what: &'static str },
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct RawIntent {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    amount: i64,
    #[serde(default)]
    amount_received: i64,
    #[serde(default)]
    metadata: HashMap<String, String>,
    /// An id, or the charge itself where the event was expanded.
    #[serde(default)]
    latest_charge: Option<Expandable>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Expandable {
    Id(String),
    Object { id: String },
}

impl StripeEvent {
    pub fn parse(body: &[u8]) -> Result<Self, EventError> {
        let event: RawEvent =
            serde_json::from_slice(body).map_err(|err| EventError::NotAnEvent(err.to_string()))?;
        if event.kind != PAYMENT_INTENT_SUCCEEDED {
            return Ok(Self::Ignored {
                id: event.id,
                kind: event.kind,
            });
        }
        let intent: RawIntent = serde_json::from_value(event.data.object)
            .map_err(|err| EventError::NotAnEvent(format!("{}: {err}", event.id)))?;
        let incomplete = |what| EventError::Incomplete {
            event: event.id.clone(),
            what,
        };
        // A PaymentIntent of another integration on the same Stripe account: not ours to record.
        let Some(order) = intent
            .metadata
            .get(ORDER_METADATA_KEY)
            .and_then(|raw| OrderId::parse(raw).ok())
        else {
            return Ok(Self::Ignored {
                id: event.id,
                kind: event.kind,
            });
        };
        if intent.status != "succeeded" {
            return Err(incomplete("status"));
        }
        let intent_id = PaymentIntentId::new(intent.id).map_err(|_| incomplete("id"))?;
        let charge = match intent.latest_charge {
            Some(Expandable::Id(id) | Expandable::Object { id }) => ChargeId::new(id).ok(),
            None => None,
        }
        .ok_or_else(|| incomplete("latest_charge"))?;
        let cents = if intent.amount_received > 0 {
            intent.amount_received
        } else {
            intent.amount
        };
        let amount = Money::from_cents(cents).map_err(|_| incomplete("amount"))?;
        Ok(Self::IntentSucceeded(SucceededIntent {
            event_id: event.id,
            intent: intent_id,
            order,
            charge,
            amount,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ORDER: &str = "64b0f7a2c1d3e4f5a6b7c8d9";

    fn succeeded(object: serde_json::Value) -> Vec<u8> {
        json!({
            "id": "evt_1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": { "object": object },
        })
        .to_string()
        .into_bytes()
    }

    fn intent() -> serde_json::Value {
        json!({
            "id": "pi_1",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 2550,
            "amount_received": 2550,
            "currency": "usd",
            "latest_charge": "ch_1",
            "metadata": { "order_id": ORDER },
        })
    }

    #[test]
    fn a_succeeded_intent_of_ours_is_read() {
        let event = StripeEvent::parse(&succeeded(intent())).expect("an event");
        let StripeEvent::IntentSucceeded(paid) = event else {
            panic!("succeeded: {event:?}");
        };
        assert_eq!(paid.event_id, "evt_1");
        assert_eq!(paid.intent.as_str(), "pi_1");
        assert_eq!(paid.order.to_string(), ORDER);
        assert_eq!(paid.charge.as_str(), "ch_1");
        assert_eq!(paid.amount.cents(), 2550);
    }

    #[test]
    fn an_expanded_charge_is_read_too() {
        let mut object = intent();
        object["latest_charge"] = json!({ "id": "ch_2", "object": "charge" });
        let Ok(StripeEvent::IntentSucceeded(paid)) = StripeEvent::parse(&succeeded(object)) else {
            panic!("succeeded");
        };
        assert_eq!(paid.charge.as_str(), "ch_2");
    }

    #[test]
    fn other_types_and_other_integrations_are_ignored() {
        let failed = json!({
            "id": "evt_2", "type": "payment_intent.payment_failed",
            "data": { "object": intent() },
        });
        assert_eq!(
            StripeEvent::parse(failed.to_string().as_bytes()),
            Ok(StripeEvent::Ignored {
                id: "evt_2".into(),
                kind: "payment_intent.payment_failed".into()
            })
        );
        let mut foreign = intent();
        foreign["metadata"] = json!({ "cart": "42" });
        assert!(matches!(
            StripeEvent::parse(&succeeded(foreign)),
            Ok(StripeEvent::Ignored { .. })
        ));
    }

    #[test]
    fn a_body_that_is_no_event_or_a_success_without_its_charge_is_refused() {
        for body in [&b"{}"[..], b"[]", b"not json", br#"{"id":"evt","type":1}"#] {
            assert!(
                matches!(StripeEvent::parse(body), Err(EventError::NotAnEvent(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        for (field, value) in [
            ("latest_charge", json!(null)),
            ("status", json!("processing")),
            ("amount_received", json!(0)),
        ] {
            let mut object = intent();
            object[field] = value;
            if field == "amount_received" {
                object["amount"] = json!(0);
            }
            assert!(
                matches!(
                    StripeEvent::parse(&succeeded(object)),
                    Err(EventError::Incomplete { .. })
                ),
                "{field}"
            );
        }
    }
}
