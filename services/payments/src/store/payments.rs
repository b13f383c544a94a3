//! Each order's one payment. The document's `_id` is the order id, so inserting it is the one
//! atomic step that decides, among any number of concurrent payments on any number of replicas,
//! the charge the order keeps (stripe-mock gives every charge the same id, so uniqueness cannot
//! rest on Stripe's). The insert carries `payment.created` in its `outbox` array, for the relay.

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    bson::{self, Document, doc},
};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::{Money, OrderId, PaymentId, money},
    events::{Envelope, OutboxEntry, OutboxSignal, outbox::Outbox},
    mongo::{ensure_index, is_duplicate_key},
};

use crate::domain::{ChargeId, Payment};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PaymentDocument {
    #[serde(rename = "_id")]
    order_id: OrderId,
    id: PaymentId,
    stripe_id: ChargeId,
    #[serde(with = "money::as_cents")]
    amount: Money,
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    created_at: DateTime<Utc>,
    /// False until the order's status has been read after this insert: a cancellation that
    /// landed while the charge was in flight means a refund (DESIGN.md §5).
    checked: bool,
    #[serde(flatten)]
    outbox: Outbox,
}

impl From<PaymentDocument> for Payment {
    fn from(doc: PaymentDocument) -> Self {
        Self {
            id: doc.id,
            order_id: doc.order_id,
            stripe_id: doc.stripe_id,
            amount: doc.amount,
            created_at: doc.created_at,
        }
    }
}

/// What became of recording a payment.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// This payment is the order's.
    New,
    /// The order already had this one.
    Existing(Payment),
}

#[derive(Clone)]
pub struct Payments {
    collection: Collection<PaymentDocument>,
    signal: OutboxSignal,
}

impl Payments {
    pub async fn open(db: &Database, signal: OutboxSignal) -> anyhow::Result<Self> {
        let collection = db.collection::<PaymentDocument>("payments");
        ensure_index(
            &collection,
            doc! { "checked": 1 },
            "payments_unchecked",
            false,
        )
        .await?;
        Ok(Self { collection, signal })
    }

    /// The collection the outbox relay publishes from.
    pub fn outbox_collection(&self) -> Collection<Document> {
        self.collection.clone_with_type()
    }

    pub async fn find(&self, order: OrderId) -> anyhow::Result<Option<Payment>> {
        let found = self
            .collection
            .find_one(doc! { "_id": order })
            .await
            .with_context(|| format!("loading the payment of order {order}"))?;
        Ok(found.map(Payment::from))
    }

    /// Stores `payment` as its order's one payment, with its `payment.created`, unchecked.
    pub async fn record(&self, payment: &Payment) -> anyhow::Result<Recorded> {
        let event = OutboxEntry::new(&Envelope::new(payment.created_event()))?;
        let document = PaymentDocument {
            order_id: payment.order_id,
            id: payment.id,
            stripe_id: payment.stripe_id.clone(),
            amount: payment.amount,
            created_at: payment.created_at,
            checked: false,
            outbox: Outbox::new(vec![event]),
        };
        match self.collection.insert_one(&document).await {
            Ok(_) => {
                self.signal.notify();
                Ok(Recorded::New)
            }
            Err(err) if is_duplicate_key(&err) => {
                let kept = self.find(payment.order_id).await?.with_context(|| {
                    format!("order {} has a payment yet none is found", payment.order_id)
                })?;
                Ok(Recorded::Existing(kept))
            }
            Err(err) => Err(anyhow::Error::new(err)
                .context(format!("storing the payment of order {}", payment.order_id))),
        }
    }

    /// Notes that the order's status after the insert has been looked at. It shares the document
    /// with the relay's `$set` that empties the outbox once its events are acked, and FerretDB may
    /// lose one of two concurrent updates of a document; either loss is harmless: an unchecked
    /// payment is checked again by the sweep, and an outbox left full is published again under
    /// the same `Nats-Msg-Id`, which JetStream drops.
    pub async fn mark_checked(&self, order: OrderId) -> anyhow::Result<()> {
        self.collection
            .update_one(doc! { "_id": order }, doc! { "$set": { "checked": true } })
            .await
            .with_context(|| format!("marking the payment of order {order} checked"))?;
        Ok(())
    }

    /// Payments stored before `cutoff` and still unchecked: their writer stopped in between.
    pub async fn unchecked_before(&self, cutoff: DateTime<Utc>) -> anyhow::Result<Vec<Payment>> {
        let found: Vec<PaymentDocument> = self
            .collection
            .find(doc! {
                "checked": false,
                "created_at": { "$lt": bson::DateTime::from_chrono(cutoff) },
            })
            .await
            .context("finding unchecked payments")?
            .try_collect()
            .await
            .context("reading unchecked payments")?;
        Ok(found.into_iter().map(Payment::from).collect())
    }
}
