//! Paying for an order: the checks of DESIGN.md §2 in their order, the Stripe charge, the insert
//! that makes it the order's one payment, and the re-check for a cancellation that landed while
//! the charge was in flight.

use ticketing_common::domain::{OrderId, UserId};

use crate::{
    domain::{Payment, PaymentToken},
    gateway::GatewayError,
    settlement,
    state::AppState,
    store::{Recorded, RefundReason},
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

/// Charges `buyer` for `order` with `token` and stores the payment with its `payment.created`.
pub async fn pay(
    state: &AppState,
    buyer: UserId,
    order_id: OrderId,
    token: &PaymentToken,
) -> Result<Payment, PayError> {
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
    let charge = state.gateway.charge(order_id, order.price, token).await?;
    let payment = Payment::new(order_id, charge, order.price);
    if let Recorded::Existing(kept) = state.payments.record(&payment).await? {
        // A concurrent payment won. With the same token Stripe gave us its very charge back (same
        // idempotency key); with another card this is a second charge, which goes back.
        if kept.stripe_id != payment.stripe_id {
            state
                .refunder
                .refund(
                    order_id,
                    payment.stripe_id,
                    payment.amount,
                    RefundReason::DuplicateCharge,
                )
                .await?;
        }
        return Err(PayError::AlreadyPaid);
    }
    let cancelled = settlement::refund_if_cancelled(state, order_id).await?;
    state.payments.mark_checked(order_id).await?;
    if cancelled {
        return Err(PayError::Cancelled);
    }
    tracing::info!(%order_id, payment_id = %payment.id, charge_id = %payment.stripe_id, "order paid");
    Ok(payment)
}
