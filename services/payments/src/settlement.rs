//! "Paid too late" (DESIGN.md §5): a charge whose order is or becomes cancelled is refunded.
//!
//! Two facts meet here: the payment is stored (by the route) and the order is cancelled (by the
//! `order.cancelled` listener). Each writer writes its own fact first and then calls
//! [`refund_if_cancelled`], so whichever comes second sees both, whatever the interleaving; if
//! both see both, the refund is still made once (it is keyed by order and charge).

use chrono::{Duration, Utc};
use ticketing_common::domain::OrderId;

use crate::{state::AppState, store::RefundReason};

/// A payment still unchecked this long after its insert was left so by a writer that stopped.
pub const CHECK_GRACE: Duration = Duration::seconds(30);

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
        refund_if_cancelled(state, payment.order_id).await?;
        state.payments.mark_checked(payment.order_id).await?;
    }
    let refunded = state.refunder.retry_due().await?;
    if refunded > 0 {
        tracing::info!(refunded, "due refunds made");
    }
    Ok(())
}
