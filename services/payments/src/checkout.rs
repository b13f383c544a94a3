//! Paying for an order: the checks of DESIGN.md §2 in their order, then either the Stripe charge
//! of the token route (stored at once as the order's one payment, re-checked for a cancellation
//! that landed while the charge was in flight), or the PaymentIntent the buyer's browser confirms
//! with a card (stored when Stripe's webhook says it succeeded, [`crate::webhook`]).

use chrono::Utc;
use ticketing_common::domain::{OrderId, UserId};

use crate::{
    domain::{CardIntent, Payment, PaymentToken},
    gateway::GatewayError,
    settlement::{self, Settled},
    state::AppState,
    store::OrderReplica,
};

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("no such order")]
    UnknownOrder,
    #[error("the order is someone else's")]
    NotOwner,
    #[error("Cannot pay for a cancelled order")]
    Cancelled,
    #[error("Order already paid")]
    AlreadyPaid,
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

/// The order `buyer` may pay for now: theirs, not cancelled, not paid yet, and not past its
/// expiry (the cancellation of an expired order may still be on its way: it is refused as the
/// cancelled order it is about to become; a paid order past its expiry is still "already paid").
pub async fn payable(
    state: &AppState,
    buyer: UserId,
    order_id: OrderId,
) -> Result<OrderReplica, PayError> {
    let order = state
        .orders
        .find(order_id)
        .await?
        .ok_or(PayError::UnknownOrder)?;
    if order.user_id != buyer {
        return Err(PayError::NotOwner);
    }
    if order.is_cancelled() {
        return Err(PayError::Cancelled);
    }
    if state.payments.find(order_id).await?.is_some() {
        return Err(PayError::AlreadyPaid);
    }
    if order.is_expired(Utc::now()) {
        return Err(PayError::Cancelled);
    }
    Ok(order)
}

/// Charges `buyer` for `order` with `token` and stores the payment with its `payment.created`.
pub async fn pay(
    state: &AppState,
    buyer: UserId,
    order_id: OrderId,
    token: &PaymentToken,
) -> Result<Payment, PayError> {
    let order = payable(state, buyer, order_id).await?;
    let charge = state
        .gateway
        .charge(order_id, order.price, token)
        .await
        .inspect_err(GatewayError::count_outcome)?;
    let payment = Payment::new(order_id, charge, order.price);
    match settlement::record(state, &payment).await? {
        Settled::Paid => {
            tracing::info!(%order_id, payment_id = %payment.id, charge_id = %payment.stripe_id, "order paid");
            Ok(payment)
        }
        Settled::Cancelled => Err(PayError::Cancelled),
        // With the same token Stripe gave us its very charge back (same idempotency key); with
        // another card it was a second charge, which went back.
        Settled::Duplicate | Settled::SecondCharge => Err(PayError::AlreadyPaid),
    }
}

/// The PaymentIntent that pays for `order` by card, for its price: opened now, or the one opened
/// before. Nothing is stored: the payment is recorded when Stripe says the money is in.
pub async fn open_card_payment(
    state: &AppState,
    buyer: UserId,
    order_id: OrderId,
) -> Result<CardIntent, PayError> {
    let order = payable(state, buyer, order_id).await?;
    Ok(state
        .gateway
        .create_intent(order_id, order.price)
        .await
        .inspect_err(GatewayError::count_outcome)?)
}
