use ticketing_common::events::{Envelope, HandleError, Listener, TicketCreated};

use crate::store::{TicketReplica, TicketReplicas};

/// `ticket.created`: a new ticket joins the replica.
pub struct TicketCreatedListener {
    pub tickets: TicketReplicas,
}

impl Listener for TicketCreatedListener {
    type Event = TicketCreated;

    async fn handle(&self, event: Envelope<TicketCreated>) -> Result<(), HandleError> {
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
        tracing::debug!(ticket_id = %ticket.id, ?outcome, "ticket replicated");
        outcome.into_handled()
    }
}
