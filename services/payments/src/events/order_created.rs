use ticketing_common::events::{Envelope, HandleError, Listener, OrderCreated};

use crate::store::OrderReplicas;

/// `order.created`: a new order joins the replica, so it can be paid.
pub struct OrderCreatedListener {
    pub orders: OrderReplicas,
}

impl Listener for OrderCreatedListener {
    type Event = OrderCreated;

    async fn handle(&self, event: Envelope<OrderCreated>) -> Result<(), HandleError> {
        let outcome = self.orders.apply_created(&event.data).await?;
        tracing::debug!(order_id = %event.data.id, ?outcome, "order replicated");
        outcome.into_handled()
    }
}
