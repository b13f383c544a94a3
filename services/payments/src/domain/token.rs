//! What the buyer's browser got from Stripe.js for their card: a token (`tok_…`), or a card,
//! source or payment method id (`card_…`, `src_…`, `pm_…`). It is charged as the `source`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token is required")]
    Missing,
    #[error("Token is invalid")]
    Malformed,
}

/// A token of the shape Stripe issues: letters, digits and `_`, at most
/// [`PaymentToken::MAX_LEN`] long. The shape matters beyond Stripe: the token becomes part of the
/// charge's idempotency key, which must be a header value of at most 255 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentToken(String);

impl PaymentToken {
    /// Far above any id Stripe issues (tens of characters), and short enough for the key.
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, TokenError> {
        let token = raw.trim();
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        let shaped = token.len() <= Self::MAX_LEN
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !shaped {
            return Err(TokenError::Malformed);
        }
        Ok(Self(token.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tokens are single-use card stand-ins, yet still kept out of the logs whole.
impl fmt::Debug for PaymentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix: String = self.0.chars().take(4).collect();
        write!(f, "PaymentToken({prefix}…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_shaped_tokens_are_accepted_and_trimmed() {
        for raw in [
            "tok_visa",
            " tok_1N3T00LkdIwHu7ixt44h1F8k ",
            "pm_card_visa",
            "src_1a",
        ] {
            assert_eq!(
                PaymentToken::parse(raw).map(|t| t.as_str().to_owned()),
                Ok(raw.trim().to_owned())
            );
        }
    }

    #[test]
    fn blank_and_odd_tokens_are_refused() {
        assert_eq!(PaymentToken::parse(""), Err(TokenError::Missing));
        assert_eq!(PaymentToken::parse("   "), Err(TokenError::Missing));
        for raw in ["tok visa", "tok\nvisa", "tok-visa", "tök", &"t".repeat(201)] {
            assert_eq!(
                PaymentToken::parse(raw),
                Err(TokenError::Malformed),
                "{raw:?}"
            );
        }
        assert!(PaymentToken::parse(&"t".repeat(200)).is_ok());
    }
}
