use ticketing_common::{
    domain::OrderStatus,
    events::{Envelope, HandleError, Listener, PaymentCreated},
};

use crate::store::{Orders, TransitionError};

/// `payment.created`: the order is complete. A payment for an order that was cancelled meanwhile
/// leaves it cancelled (payments refunds it, DESIGN.md §5).
pub struct PaymentCreatedListener {
    pub orders: Orders,
}

impl Listener for PaymentCreatedListener {
    type Event = PaymentCreated;

    async fn handle(&self, event: Envelope<PaymentCreated>) -> Result<(), HandleError> {
        let order_id = event.data.order_id;
        match self.orders.move_to(order_id, OrderStatus::Complete).await {
            Ok(_) => {
                tracing::info!(%order_id, "order paid");
                Ok(())
            }
            Err(TransitionError::Final(status)) => {
                tracing::info!(%order_id, status, "payment for a finished order: left as it is");
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}
