use ticketing_common::events::{Envelope, HandleError, Listener, OrderCreated};

use crate::{
    jobs::Expiry,
    scheduler::{Scheduled, Scheduler},
};

/// `order.created`: store the order's expiry job; the event is acked (by returning `Ok`) only
/// once the job is in Redis, so a failure here brings the event back rather than losing it.
pub struct OrderCreatedListener {
    pub scheduler: Scheduler,
}

impl Listener for OrderCreatedListener {
    type Event = OrderCreated;

    async fn handle(&self, event: Envelope<OrderCreated>) -> Result<(), HandleError> {
        let expiry = Expiry::from(&event.data).in_current_trace();
        let order_id = expiry.order_id;
        let expires_at = expiry.expires_at;
        match self.scheduler.schedule(&expiry).await? {
            Scheduled::New => tracing::info!(%order_id, %expires_at, "expiry scheduled"),
            Scheduled::AlreadyScheduled => tracing::info!(
                %order_id, %expires_at,
                "expiry was already scheduled; repeated order.created ignored"
            ),
        }
        Ok(())
    }
}
