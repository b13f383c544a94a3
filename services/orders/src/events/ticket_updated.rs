use ticketing_common::events::{Envelope, HandleError, Listener, TicketUpdated};

use crate::store::{TicketReplica, TicketReplicas};

/// `ticket.updated`: the replica moves to the new version, strictly in version order.
pub struct TicketUpdatedListener {
    pub tickets: TicketReplicas,
}

impl Listener for TicketUpdatedListener {
    type Event = TicketUpdated;

    async fn handle(&self, event: Envelope<TicketUpdated>) -> Result<(), HandleError> {
        let ticket = event.data;
        let outcome = self
            .tickets
            .apply(TicketReplica {
                id: ticket.id,
                title: ticket.title,
                price: ticket.price,
                version: ticket.version,
            })
            .await?;
        tracing::debug!(ticket_id = %ticket.id, version = %ticket.version, ?outcome, "ticket update replicated");
        outcome.into_handled()
    }
}
