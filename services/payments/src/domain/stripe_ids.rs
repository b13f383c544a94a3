//! Stripe's ids for the objects we create there, kept as Stripe wrote them (`ch_…`, `re_…`,
//! `pi_…`).
//! One type each, so a refund id can never be sent where a charge is meant.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Stripe answered with an empty {0} id")]
pub struct StripeIdError(&'static str);

impl StripeIdError {
    pub(crate) fn empty(what: &'static str) -> Self {
        Self(what)
    }
}

macro_rules! stripe_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(raw: impl Into<String>) -> Result<Self, StripeIdError> {
                let raw = raw.into();
                if raw.trim().is_empty() {
                    Err(StripeIdError::empty($what))
                } else {
                    Ok(Self(raw))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

stripe_id!(
    /// A Stripe charge. Not unique across orders in tests: stripe-mock answers every charge with
    /// the same id.
    ChargeId,
    "charge"
);
stripe_id!(
    /// A Stripe refund.
    RefundId,
    "refund"
);
stripe_id!(
    /// A Stripe PaymentIntent: one per order paid by card. Not unique across orders in tests
    /// either: stripe-mock answers every PaymentIntent with the same id.
    PaymentIntentId,
    "payment intent"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_never_empty() {
        assert!(ChargeId::new("").is_err());
        assert!(RefundId::new("  ").is_err());
        assert_eq!(
            ChargeId::new("ch_123").map(|id| id.to_string()),
            Ok("ch_123".to_owned())
        );
    }
}
