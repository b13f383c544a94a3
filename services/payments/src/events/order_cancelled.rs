use ticketing_common::{
    events::{Envelope, HandleError, Listener, OrderCancelled},
    store::Applied,
};

use crate::{settlement, state::AppState};

/// `order.cancelled`: the replica moves to `cancelled`, and a payment already stored for the
/// order is refunded (DESIGN.md §5, "Paid too late").
pub struct OrderCancelledListener {
    pub state: AppState,
}

impl Listener for OrderCancelledListener {
    type Event = OrderCancelled;

    async fn handle(&self, event: Envelope<OrderCancelled>) -> Result<(), HandleError> {
        let order_id = event.data.id;
        let outcome = self.state.orders.apply_cancelled(&event.data).await?;
        tracing::debug!(%order_id, version = %event.data.version, ?outcome, "order cancellation replicated");
        if outcome == Applied::Early {
            return Err(HandleError::Early);
        }
        // Also for a duplicate: the delivery before may have stopped between the two steps.
        let refunded = settlement::refund_if_cancelled(&self.state, order_id).await?;
        if refunded {
            tracing::info!(%order_id, "paid order cancelled: refunded");
        }
        outcome.into_handled()
    }
}
