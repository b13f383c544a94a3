//! An order's PaymentIntent as the buyer's browser needs it: its id and the client secret that
//! Stripe.js confirms it with (card details go from the browser to Stripe, never through us).

use std::fmt;

use serde::Serialize;

use super::{PaymentIntentId, StripeIdError};

/// What Stripe.js needs to confirm a PaymentIntent (`pi_…_secret_…`). It lets whoever holds it
/// confirm that one payment, so it goes to the order's buyer only and never into a log.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(raw: impl Into<String>) -> Result<Self, StripeIdError> {
        let raw = raw.into();
        if raw.trim().is_empty() {
            Err(StripeIdError::empty("client secret"))
        } else {
            Ok(Self(raw))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// The PaymentIntent that pays for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardIntent {
    pub id: PaymentIntentId,
    pub client_secret: ClientSecret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_secret_is_never_empty_nor_printed() {
        assert!(ClientSecret::new(" ").is_err());
        let secret = ClientSecret::new("pi_1_secret_2").expect("a secret");
        assert_eq!(secret.as_str(), "pi_1_secret_2");
        assert!(!format!("{secret:?}").contains("secret_2"));
    }
}
