use ticketing_common::events::{Envelope, HandleError, Listener, OrderCreated};

use crate::store::Tickets;

/// `order.created`: the ticket is now reserved and cannot be edited.
pub struct OrderCreatedListener {
    pub tickets: Tickets,
}

impl Listener for OrderCreatedListener {
    type Event = OrderCreated;

    async fn handle(&self, event: Envelope<OrderCreated>) -> Result<(), HandleError> {
        let order = event.data;
        let outcome = self.tickets.reserve(order.ticket.id, order.id).await?;
        tracing::info!(ticket_id = %order.ticket.id, order_id = %order.id, ?outcome, "reserve ticket");
        outcome.into_handled()
    }
}
