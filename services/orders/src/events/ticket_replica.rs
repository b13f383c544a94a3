use std::marker::PhantomData;

use ticketing_common::events::{
    Envelope, Event, HandleError, Listener, TicketCreated, TicketUpdated,
};

use crate::store::{TicketReplica, TicketReplicas};

/// `ticket.created` and `ticket.updated`: the replica takes each version of a ticket strictly in
/// version order (an early one comes back later, a duplicate is dropped).
pub struct TicketReplicaListener<E> {
    tickets: TicketReplicas,
    _event: PhantomData<fn(E)>,
}

impl<E> TicketReplicaListener<E> {
    pub fn new(tickets: TicketReplicas) -> Self {
        Self {
            tickets,
            _event: PhantomData,
        }
    }
}

impl<E: Event + Into<TicketReplica>> Listener for TicketReplicaListener<E> {
    type Event = E;

    async fn handle(&self, event: Envelope<E>) -> Result<(), HandleError> {
        let replica: TicketReplica = event.data.into();
        let (id, version) = (replica.id, replica.version);
        let outcome = self.tickets.apply(replica).await?;
        tracing::debug!(ticket_id = %id, %version, ?outcome, "ticket replicated");
        outcome.into_handled()
    }
}

impl From<TicketCreated> for TicketReplica {
    fn from(ticket: TicketCreated) -> Self {
        Self {
            id: ticket.id,
            title: ticket.title,
            price: ticket.price,
            version: ticket.version,
        }
    }
}

impl From<TicketUpdated> for TicketReplica {
    fn from(ticket: TicketUpdated) -> Self {
        Self {
            id: ticket.id,
            title: ticket.title,
            price: ticket.price,
            version: ticket.version,
        }
    }
}
