//! "Paid too late" (DESIGN.md §5): a charge whose order is or becomes cancelled is refunded.
//!
//! Two facts meet here: the payment is stored (by the token route, or by the webhook when Stripe
//! says a PaymentIntent succeeded) and the order is cancelled (by the `order.cancelled` listener). Each writer writes its own fact first and then calls
//! [`refund_if_cancelled`], so whichever comes second sees both, whatever the interleaving; if
//! both see both, the refund is still made once (it is keyed by order and charge).

use chrono::{Duration, Utc};
use ticketing_common::{
    domain::OrderId,
    metrics::{self, PaymentOutcome},
};

use crate::{
    domain::Payment,
    state::AppState,
    store::{Recorded, RefundReason},
};

/// A payment still unchecked this long after its insert was left so by a writer that stopped.
pub const CHECK_GRACE: Duration = Duration::seconds(30);

/// What became of a charge offered as its order's payment by [`record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// It is the order's payment, and the order stands.
    Paid,
    /// It is the order's payment, but the order is cancelled (by the buyer, or on expiry): the
    /// charge is refunded.
    Cancelled,
    /// This very charge was the order's payment already (a retried request, a redelivery).
    Duplicate,
    /// Another charge paid the order first: this one is refunded.
    SecondCharge,
}

/// Stores `payment` as its order's one payment, with its `payment.created`, and settles it: a
/// second charge for the order goes back, and so does a charge whose order is cancelled.
pub async fn record(state: &AppState, payment: &Payment) -> anyhow::Result<Settled> {
    let order = payment.order_id;
    if let Recorded::Existing(kept) = state.payments.record(payment).await? {
        if kept.stripe_id == payment.stripe_id {
            return Ok(Settled::Duplicate);
        }
        // Two charges for one order (two cards at once, or the token route and a card): the
        // first stored is kept, the other goes back.
        state
            .refunder
            .refund(
                order,
                payment.stripe_id.clone(),
                payment.amount,
                RefundReason::DuplicateCharge,
            )
            .await?;
        return Ok(Settled::SecondCharge);
    }
    let cancelled = recheck(state, order).await?;
    Ok(if cancelled {
        Settled::Cancelled
    } else {
        metrics::payment(PaymentOutcome::Succeeded);
        Settled::Paid
    })
}

/// Reads the order again after its payment was stored, refunds the payment if the order is
/// cancelled, and marks the payment checked; `true` if it was refunded.
pub async fn recheck(state: &AppState, order: OrderId) -> anyhow::Result<bool> {
    let cancelled = refund_if_cancelled(state, order).await?;
    state.payments.mark_checked(order).await?;
    Ok(cancelled)
}

/// Refunds the order's payment if the order is cancelled; `true` if it is.
pub async fn refund_if_cancelled(state: &AppState, order: OrderId) -> anyhow::Result<bool> {
    let Some(payment) = state.payments.find(order).await? else {
        return Ok(false);
    };
    let cancelled = state
        .orders
        .find(order)
        .await?
        .is_some_and(|order| order.is_cancelled());
    if cancelled {
        tracing::warn!(order_id = %order, charge_id = %payment.stripe_id, "payment for a cancelled order: refunding it");
        state
            .refunder
            .refund(
                order,
                payment.stripe_id,
                payment.amount,
                RefundReason::OrderCancelled,
            )
            .await?;
    }
    Ok(cancelled)
}

/// One pass of the safety net: checks the payments whose writer stopped between storing them
/// and reading the order again, then retries the refunds Stripe failed.
pub async fn sweep(state: &AppState) -> anyhow::Result<()> {
    for payment in state
        .payments
        .unchecked_before(Utc::now() - CHECK_GRACE)
        .await?
    {
        tracing::warn!(order_id = %payment.order_id, "checking a payment its writer left unchecked");
        recheck(state, payment.order_id).await?;
    }
    let refunded = state.refunder.retry_due().await?;
    if refunded > 0 {
        tracing::info!(refunded, "due refunds made");
    }
    Ok(())
}
