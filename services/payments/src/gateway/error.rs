//! What can go wrong at Stripe, sorted by who can do something about it: the buyer (declined,
//! invalid), nobody right now (in progress, unavailable), or us (unusable).

use stripe::{ApiErrorsCode, ApiErrorsType, StripeError};
use ticketing_common::metrics::{self, PaymentOutcome};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The card was declined (Stripe's `card_error`, HTTP 402). Stripe's message is meant for
    /// the buyer, who can try another card.
    #[error("{0}")]
    Declined(String),
    /// Stripe refused the request as invalid: an unknown or used token, an amount below Stripe's
    /// minimum. Stripe's message says which.
    #[error("{0}")]
    Invalid(String),
    /// Another request with the same idempotency key is still running at Stripe.
    #[error("{0}")]
    InProgress(String),
    /// The charge was refunded already (by an earlier attempt whose answer we lost, or by hand).
    #[error("the charge is already refunded")]
    AlreadyRefunded,
    /// Stripe could not be reached, timed out, failed, refused our credentials or answered
    /// something we cannot read: nothing the buyer can fix.
    #[error("Stripe unavailable: {0}")]
    Unavailable(String),
    /// We could not even build the request.
    #[error("cannot build the Stripe request: {0}")]
    Unusable(String),
}

impl GatewayError {
    /// What this failure of a charge or a PaymentIntent means for the payment, counted in the
    /// metrics. Not counted: a request waiting for another with the same key (that one's outcome
    /// counts) and a charge refunded already (not a payment attempt).
    pub fn count_outcome(&self) {
        let outcome = match self {
            Self::Declined(_) => PaymentOutcome::Declined,
            Self::Invalid(_) => PaymentOutcome::Invalid,
            Self::Unavailable(_) | Self::Unusable(_) => PaymentOutcome::GatewayError,
            Self::InProgress(_) | Self::AlreadyRefunded => return,
        };
        metrics::payment(outcome);
    }
}

impl From<StripeError> for GatewayError {
    fn from(err: StripeError) -> Self {
        let StripeError::Stripe(api, status) = err else {
            // Connection failures, timeouts, unreadable answers, client configuration.
            return Self::Unavailable(err.to_string());
        };
        let message = api
            .message
            .clone()
            .unwrap_or_else(|| format!("Stripe refused the request ({status})"));
        if api.code == Some(ApiErrorsCode::ChargeAlreadyRefunded) {
            return Self::AlreadyRefunded;
        }
        match (&api.type_, status) {
            (ApiErrorsType::CardError, _) => Self::Declined(message),
            (ApiErrorsType::IdempotencyError, _) => Self::InProgress(message),
            // 401/403 mean our key is wrong, 429 that we are throttled: not the buyer's doing.
            (ApiErrorsType::InvalidRequestError, 400 | 402 | 404) => Self::Invalid(message),
            (kind, status) => Self::Unavailable(format!("{} ({status}): {message}", kind.as_str())),
        }
    }
}
