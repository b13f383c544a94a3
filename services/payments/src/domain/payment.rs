use chrono::{DateTime, Utc};
use ticketing_common::{
    domain::{Money, OrderId, PaymentId},
    events::PaymentCreated,
};

use super::ChargeId;

/// An order's one payment: the Stripe charge that paid for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub stripe_id: ChargeId,
    pub amount: Money,
    pub created_at: DateTime<Utc>,
}

impl Payment {
    pub fn new(order_id: OrderId, stripe_id: ChargeId, amount: Money) -> Self {
        Self {
            id: PaymentId::new(),
            order_id,
            stripe_id,
            amount,
            created_at: Utc::now(),
        }
    }

    pub fn created_event(&self) -> PaymentCreated {
        PaymentCreated {
            id: self.id,
            order_id: self.order_id,
            stripe_id: self.stripe_id.to_string(),
        }
    }
}
