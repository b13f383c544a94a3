use ticketing_common::events::{Envelope, HandleError, Listener, OrderCancelled};

use crate::store::Tickets;

/// `order.cancelled`: the ticket is for sale again.
pub struct OrderCancelledListener {
    pub tickets: Tickets,
}

impl Listener for OrderCancelledListener {
    type Event = OrderCancelled;

    async fn handle(&self, event: Envelope<OrderCancelled>) -> Result<(), HandleError> {
        let order = event.data;
        let outcome = self.tickets.release(order.ticket.id, order.id).await?;
        tracing::info!(ticket_id = %order.ticket.id, order_id = %order.id, ?outcome, "release ticket");
        outcome.into_handled()
    }
}
