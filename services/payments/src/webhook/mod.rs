//! Stripe's webhook, the source of truth for card payments (`POST /api/payments/webhook`).
//!
//! A delivery is accepted only with a valid signature ([`signature`]); then a
//! `payment_intent.succeeded` for one of our orders ([`event`]) records the payment exactly as
//! the token route does: one payment per order (the insert under the order id decides), its
//! `payment.created` in the same write, a second charge or a charge for a cancelled order
//! refunded ([`settlement::record`]). Stripe retries until it gets a 2xx, for days, and does
//! not keep order: a repeated or late delivery records nothing twice and answers 2xx.

pub mod event;
pub mod signature;

use chrono::Utc;

pub use event::{EventError, ORDER_METADATA_KEY, StripeEvent, SucceededIntent};
pub use signature::{
    SignatureError, SignatureVerifier, WebhookSecret, WebhookSecretError, signature_header,
};

use crate::{
    domain::Payment,
    settlement::{self, Settled},
    state::AppState,
};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A type, or a PaymentIntent, that is none of our business.
    Ignored,
    /// The order's payment was recorded.
    Paid,
    /// The order's payment was recorded and refunded: the order was cancelled meanwhile.
    RefundedCancelled,
    /// This payment was on record already (a retry or a duplicate delivery).
    Duplicate,
    /// The order had been paid by another charge: this one was refunded.
    RefundedSecondCharge,
}

/// Verifies one delivery (`signature` is its `Stripe-Signature` header, `body` its exact bytes)
/// and acts on it.
pub async fn receive(
    state: &AppState,
    verifier: &SignatureVerifier,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Received, WebhookError> {
    verifier.verify(signature, body, Utc::now().timestamp())?;
    match StripeEvent::parse(body)? {
        StripeEvent::Ignored { id, kind } => {
            tracing::debug!(event_id = %id, event_type = %kind, "Stripe event ignored");
            Ok(Received::Ignored)
        }
        StripeEvent::IntentSucceeded(paid) => Ok(settle(state, &paid).await?),
    }
}

#[tracing::instrument(name = "payment_intent_succeeded", skip_all, fields(
    event_id = %paid.event_id, order_id = %paid.order, payment_intent_id = %paid.intent,
    charge_id = %paid.charge,
))]
async fn settle(state: &AppState, paid: &SucceededIntent) -> anyhow::Result<Received> {
    let payment = Payment::new(paid.order, paid.charge.clone(), paid.amount);
    let received = match settlement::record(state, &payment).await? {
        Settled::Paid => {
            tracing::info!(payment_id = %payment.id, "order paid by card");
            Received::Paid
        }
        Settled::Cancelled => Received::RefundedCancelled,
        Settled::Duplicate => {
            // The delivery before may have stopped between storing the payment and reading the
            // order again: finish that, as the sweep would later.
            let cancelled = settlement::recheck(state, paid.order).await?;
            tracing::debug!(cancelled, "payment already on record");
            Received::Duplicate
        }
        Settled::SecondCharge => {
            tracing::warn!("order already paid by another charge: this one is refunded");
            Received::RefundedSecondCharge
        }
    };
    Ok(received)
}
