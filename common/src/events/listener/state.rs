//! What the durable consumer holds, reported to [`crate::metrics`] while the listener runs:
//! events not delivered yet, delivered and unacked, and redelivered. JetStream knows these for
//! the consumer as a whole, so every replica reports the same figures (a dashboard takes the
//! largest); asking costs one request every [`ListenerOptions::state_every`](super::ListenerOptions).

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use tokio::time::MissedTickBehavior;

use crate::metrics;

/// Reports the consumer's state every `every`, the first time at once, until dropped.
pub(super) async fn report(consumer: PullConsumer, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match consumer.get_info().await {
            Ok(info) => metrics::consumer_state(
                &info.stream_name,
                &info.name,
                info.num_pending,
                info.num_ack_pending,
                info.num_redelivered,
            ),
            // NATS away: the puller says so in the log; the figures keep their last value.
            Err(err) => tracing::debug!(error = %err, "reading the consumer's state failed"),
        }
    }
}
