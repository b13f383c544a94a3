//! Refunds owed and made (DESIGN.md §5, "Paid too late"). A refund is recorded as due before
//! Stripe is asked, keyed by the order and the charge, so a decision to refund survives a crash
//! or a Stripe outage: the retry worker refunds what is still due.

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    bson::{self, doc},
};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, money},
    mongo::{ensure_index, is_duplicate_key},
};

use crate::domain::{ChargeId, RefundId};

/// Why money goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// The order was cancelled (by the buyer or on expiry) before or after it was paid.
    OrderCancelled,
    /// The order was paid by another charge first (two payments with different cards at once).
    DuplicateCharge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Due,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundRecord {
    /// `<order id>:<charge id>`: one refund per charge of an order.
    #[serde(rename = "_id")]
    key: String,
    pub order_id: OrderId,
    pub charge_id: ChargeId,
    #[serde(with = "money::as_cents")]
    pub amount: Money,
    pub reason: RefundReason,
    pub status: RefundStatus,
    /// Stripe's refund, once made (unknown if Stripe said the charge was refunded already).
    #[serde(default)]
    pub refund_id: Option<RefundId>,
    pub due_since: bson::DateTime,
    #[serde(default)]
    pub refunded_at: Option<bson::DateTime>,
    /// Why the last attempt failed, for the operator.
    #[serde(default)]
    pub last_error: Option<String>,
}

impl RefundRecord {
    pub fn due(
        order_id: OrderId,
        charge_id: ChargeId,
        amount: Money,
        reason: RefundReason,
    ) -> Self {
        Self {
            key: format!("{order_id}:{charge_id}"),
            order_id,
            charge_id,
            amount,
            reason,
            status: RefundStatus::Due,
            refund_id: None,
            due_since: bson::DateTime::now(),
            refunded_at: None,
            last_error: None,
        }
    }
}

#[derive(Clone)]
pub struct Refunds {
    collection: Collection<RefundRecord>,
}

impl Refunds {
    pub async fn open(db: &Database) -> anyhow::Result<Self> {
        let collection = db.collection::<RefundRecord>("refunds");
        ensure_index(
            &collection,
            doc! { "status": 1 },
            "refunds_by_status",
            false,
        )
        .await?;
        ensure_index(
            &collection,
            doc! { "order_id": 1 },
            "refunds_by_order",
            false,
        )
        .await?;
        Ok(Self { collection })
    }

    /// Records `refund` as due, unless that charge's refund is recorded already; returns the
    /// record as stored.
    pub async fn schedule(&self, refund: RefundRecord) -> anyhow::Result<RefundRecord> {
        match self.collection.insert_one(&refund).await {
            Ok(_) => Ok(refund),
            Err(err) if is_duplicate_key(&err) => self
                .collection
                .find_one(doc! { "_id": refund.key.as_str() })
                .await
                .context("loading a scheduled refund")?
                .with_context(|| format!("refund {} exists yet is not found", refund.key)),
            Err(err) => {
                Err(anyhow::Error::new(err)
                    .context(format!("scheduling the refund of {}", refund.key)))
            }
        }
    }

    pub async fn mark_refunded(
        &self,
        refund: &RefundRecord,
        refund_id: Option<&RefundId>,
    ) -> anyhow::Result<()> {
        self.collection
            .update_one(
                doc! { "_id": refund.key.as_str() },
                doc! { "$set": {
                    "status": "refunded",
                    "refund_id": refund_id.map(RefundId::as_str),
                    "refunded_at": bson::DateTime::now(),
                    "last_error": null,
                } },
            )
            .await
            .with_context(|| format!("recording the refund of {}", refund.key))?;
        Ok(())
    }

    pub async fn mark_failed(&self, refund: &RefundRecord, error: &str) -> anyhow::Result<()> {
        self.collection
            .update_one(
                doc! { "_id": refund.key.as_str(), "status": "due" },
                doc! { "$set": { "last_error": error } },
            )
            .await
            .with_context(|| format!("recording a failed refund of {}", refund.key))?;
        Ok(())
    }

    /// Every refund still owed, oldest first.
    pub async fn due(&self) -> anyhow::Result<Vec<RefundRecord>> {
        self.collection
            .find(doc! { "status": "due" })
            .sort(doc! { "due_since": 1 })
            .await
            .context("finding due refunds")?
            .try_collect()
            .await
            .context("reading due refunds")
    }

    /// The refunds of one order, for tests and the operator.
    pub async fn of_order(&self, order: OrderId) -> anyhow::Result<Vec<RefundRecord>> {
        self.collection
            .find(doc! { "order_id": order })
            .await
            .context("finding an order's refunds")?
            .try_collect()
            .await
            .context("reading an order's refunds")
    }
}
