//! Gives money back. What must be refunded is recorded as due first, then refunded through
//! Stripe; if Stripe fails, the record stays due and the retry worker tries again, so a refund
//! once decided is never forgotten. Every try for one charge carries the same idempotency key,
//! so concurrent or repeated tries make one refund.

use ticketing_common::{
    domain::{Money, OrderId},
    metrics::{self, PaymentOutcome},
};

use crate::{
    domain::ChargeId,
    gateway::{Gateway, GatewayError},
    store::{RefundReason, RefundRecord, RefundStatus, Refunds},
};

#[derive(Clone)]
pub struct Refunder {
    refunds: Refunds,
    gateway: Gateway,
}

impl Refunder {
    pub fn new(refunds: Refunds, gateway: Gateway) -> Self {
        Self { refunds, gateway }
    }

    pub fn refunds(&self) -> &Refunds {
        &self.refunds
    }

    /// Records the refund of `charge` as due and tries it at once. Only a database failure is an
    /// error: a Stripe failure leaves the refund due for the retry worker.
    pub async fn refund(
        &self,
        order: OrderId,
        charge: ChargeId,
        amount: Money,
        reason: RefundReason,
    ) -> anyhow::Result<()> {
        let record = self
            .refunds
            .schedule(RefundRecord::due(order, charge, amount, reason))
            .await?;
        if record.status == RefundStatus::Due {
            tracing::info!(order_id = %order, charge_id = %record.charge_id, ?reason, "refund due");
            self.attempt(&record).await?;
        }
        Ok(())
    }

    /// Tries every refund still due; returns how many were made.
    pub async fn retry_due(&self) -> anyhow::Result<usize> {
        let mut refunded = 0;
        for record in self.refunds.due().await? {
            if self.attempt(&record).await? {
                refunded += 1;
            }
        }
        Ok(refunded)
    }

    /// One try; `true` once the charge is refunded.
    async fn attempt(&self, record: &RefundRecord) -> anyhow::Result<bool> {
        match self
            .gateway
            .refund(record.order_id, &record.charge_id)
            .await
        {
            Ok(refund_id) => {
                self.refunds.mark_refunded(record, Some(&refund_id)).await?;
                // Counted once recorded: a retry after a failed mark gets the same refund back.
                metrics::payment(PaymentOutcome::Refunded);
                Ok(true)
            }
            Err(GatewayError::AlreadyRefunded) => {
                tracing::info!(order_id = %record.order_id, charge_id = %record.charge_id, "charge was refunded already");
                self.refunds.mark_refunded(record, None).await?;
                Ok(true)
            }
            Err(err) => {
                tracing::warn!(
                    order_id = %record.order_id, charge_id = %record.charge_id, error = %err,
                    "refund failed; it stays due and is retried"
                );
                self.refunds.mark_failed(record, &err.to_string()).await?;
                Ok(false)
            }
        }
    }
}
