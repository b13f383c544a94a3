use ticketing_common::events::{Envelope, ExpirationComplete, HandleError, Listener};

use crate::{lifecycle, state::AppState, store::TransitionError};

/// `expiration.complete`: an unpaid order is cancelled and its ticket released; a paid one stays.
pub struct ExpirationCompleteListener {
    pub state: AppState,
}

impl Listener for ExpirationCompleteListener {
    type Event = ExpirationComplete;

    async fn handle(&self, event: Envelope<ExpirationComplete>) -> Result<(), HandleError> {
        let order_id = event.data.order_id;
        match lifecycle::cancel_order(&self.state, order_id).await {
            Ok((_, cancelled)) => {
                tracing::info!(%order_id, cancelled, "order expired");
                Ok(())
            }
            Err(TransitionError::Final(status)) => {
                tracing::info!(%order_id, status, "expiry of a finished order ignored");
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}
