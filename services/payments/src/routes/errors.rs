//! How the payments service's outcomes become API errors (DESIGN.md §2): one `From` per
//! operation's error, so handlers just use `?`.

use axum::http::StatusCode;
use ticketing_common::ApiError;

use crate::{
    checkout::PayError,
    gateway::GatewayError,
    webhook::{SignatureError, WebhookError},
};

/// The messages of the body checks and of the webhook's refusals, in one place.
pub mod messages {
    pub const ORDER_ID_REQUIRED: &str = "OrderId must be provided";
    pub const SIGNATURE_MISSING: &str = "Missing Stripe-Signature header";
    pub const SIGNATURE_INVALID: &str = "Invalid Stripe signature";
    pub const SIGNATURE_STALE: &str = "Stripe signature timestamp is outside the tolerance";
    pub const EVENT_UNREADABLE: &str = "Unreadable Stripe event";
    pub const PROVIDER_UNAVAILABLE: &str =
        "The payment provider is not available, please try again";
}

impl From<PayError> for ApiError {
    fn from(err: PayError) -> Self {
        match err {
            PayError::UnknownOrder => Self::NotFound,
            PayError::NotOwner => Self::NotAuthorized,
            PayError::Cancelled | PayError::AlreadyPaid => Self::bad_request(err.to_string()),
            PayError::Gateway(err) => err.into(),
            PayError::Database(err) => Self::Unexpected(err.context("paying for an order")),
        }
    }
}

/// Stripe's own words where they are meant for the buyer; a plain 502 where Stripe failed us.
impl From<GatewayError> for ApiError {
    fn from(err: GatewayError) -> Self {
        match err {
            GatewayError::Declined(message) => Self::Rejected {
                status: StatusCode::PAYMENT_REQUIRED,
                message,
            },
            GatewayError::Invalid(message) => Self::BadRequest(message),
            GatewayError::InProgress(message) => Self::Rejected {
                status: StatusCode::CONFLICT,
                message,
            },
            GatewayError::Unavailable(detail) => {
                tracing::warn!(%detail, "Stripe failed a request");
                Self::BadGateway(messages::PROVIDER_UNAVAILABLE.into())
            }
            GatewayError::AlreadyRefunded | GatewayError::Unusable(_) => {
                Self::Unexpected(anyhow::Error::new(err).context("calling Stripe"))
            }
        }
    }
}

/// A delivery Stripe did not sign, or could not have sent, is a 400 (Stripe shows it in the
/// endpoint's log and retries); a failure of ours is a 500, which Stripe retries too.
impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::Signature(reason) => {
                tracing::warn!(%reason, "webhook delivery refused");
                Self::bad_request(match reason {
                    SignatureError::Missing => messages::SIGNATURE_MISSING,
                    SignatureError::Malformed | SignatureError::Mismatch => {
                        messages::SIGNATURE_INVALID
                    }
                    SignatureError::Stale => messages::SIGNATURE_STALE,
                })
            }
            WebhookError::Event(reason) => {
                tracing::error!(%reason, "a signed webhook delivery is not an event we can read");
                Self::bad_request(messages::EVENT_UNREADABLE)
            }
            WebhookError::Database(err) => {
                Self::Unexpected(err.context("handling a Stripe webhook delivery"))
            }
        }
    }
}
