//! The job itself: what it carries, and what firing it does.

use std::time::Duration;

use apalis::prelude::{AbortError, BoxDynError, Data};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::OrderId,
    events::{Envelope, EventId, ExpirationComplete, OrderCreated, Publisher},
    metrics,
    retry::{self, Backoff},
    telemetry::{self, SpanKind, TraceContext},
};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, field::Empty};

/// First pause (of the fleet's back-off, `ticketing_common::retry`) before publishing again
/// after JetStream refused or did not answer.
const PUBLISH_RETRY_FIRST: Duration = Duration::from_millis(250);
/// Longest pause between publish attempts while NATS is down (before jitter).
const PUBLISH_RETRY_MAX: Duration = Duration::from_secs(5);
/// How early the storage can hand a job over: its clock is in whole seconds.
const TAKEN_EARLY_AT_MOST: Duration = Duration::from_secs(1);

/// What a job carries (as JSON in Redis): the order to expire and when, and the trace of the
/// `order.created` that scheduled it, so the expiry (and the `expiration.complete` it
/// publishes) belongs to the order's trace even minutes later, across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expiry {
    pub order_id: OrderId,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
}

impl From<&OrderCreated> for Expiry {
    fn from(order: &OrderCreated) -> Self {
        Self {
            order_id: order.id,
            expires_at: order.expires_at,
            trace: None,
        }
    }
}

impl Expiry {
    /// This expiry, in the trace of the current span (the `order.created` being handled).
    pub fn in_current_trace(self) -> Self {
        Self {
            trace: TraceContext::current(),
            ..self
        }
    }

    /// `expiration.complete` with an id derived from the order, so however many times this
    /// job runs, JetStream keeps one event per order.
    pub fn event(&self) -> Envelope<ExpirationComplete> {
        Envelope::with_id(
            EventId::derived("expiration", self.order_id),
            ExpirationComplete {
                order_id: self.order_id,
            },
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FireError {
    /// The worker is stopping: the job fails, so apalis stores it back and it runs after the
    /// restart (a duplicate publish, if the one in flight landed, is dropped by JetStream).
    #[error(
        "stopped before expiration.complete for order {0} was acknowledged; the job runs again"
    )]
    Stopped(OrderId),
}

/// What firing needs: the publisher, the worker's stop signal so retries end on shutdown, and
/// the queue the jobs come from (the label of the lateness metric).
#[derive(Clone)]
pub struct Firing {
    publisher: Publisher,
    stop: CancellationToken,
    queue: String,
}

impl Firing {
    pub fn new(publisher: Publisher, stop: CancellationToken, queue: String) -> Self {
        Self {
            publisher,
            stop,
            queue,
        }
    }

    /// Publishes the order's `expiration.complete` at `expires_at` and returns once JetStream
    /// acked it, retrying for as long as the worker runs.
    pub async fn fire(&self, expiry: &Expiry) -> Result<(), FireError> {
        let order_id = expiry.order_id;
        self.wait_until_due(expiry).await?;
        let event = expiry.event();
        let mut backoff = Backoff::new(PUBLISH_RETRY_FIRST, PUBLISH_RETRY_MAX);
        let mut attempt = 1_u32;
        loop {
            match self.publisher.publish(&event).await {
                Ok(duplicate) => {
                    let late = Utc::now() - expiry.expires_at;
                    metrics::expiration_fired(&self.queue, late.to_std().unwrap_or_default());
                    let late_ms = late.num_milliseconds();
                    tracing::info!(
                        %order_id, late_ms, attempt, duplicate,
                        "order expired: expiration.complete published"
                    );
                    return Ok(());
                }
                Err(err) => {
                    // The publish in flight was let finish; no new one once stopping.
                    if self.stop.is_cancelled() {
                        return Err(self.handed_back(order_id));
                    }
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        %order_id, attempt, retry_in = ?delay, error = %err,
                        "publishing expiration.complete failed; retrying"
                    );
                    if !retry::pause(delay, &self.stop).await {
                        return Err(self.handed_back(order_id));
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// The storage hands a job over at the start of the second it is due in (see
    /// `scheduler::due_second`), so up to a second early: that wait is part of the job and is
    /// finished even while the worker stops, so the order expires on time across a restart. A
    /// longer wait (replicas' clocks apart) is cut short by a stop and the job handed back.
    async fn wait_until_due(&self, expiry: &Expiry) -> Result<(), FireError> {
        let Ok(early) = (expiry.expires_at - Utc::now()).to_std() else {
            return Ok(());
        };
        if early <= TAKEN_EARLY_AT_MOST {
            tokio::time::sleep(early).await;
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(early) => Ok(()),
            () = self.stop.cancelled() => Err(self.handed_back(expiry.order_id)),
        }
    }

    fn handed_back(&self, order_id: OrderId) -> FireError {
        tracing::info!(%order_id, "worker stopping: expiry job handed back, it runs after the restart");
        FireError::Stopped(order_id)
    }
}

/// The job handler apalis calls. The job arrives as raw JSON and is parsed here: a job apalis
/// could not decode would fail the whole worker on every fetch, while a job this handler cannot
/// read is logged and dropped (aborted: apalis does not retry it).
pub async fn fire(job: serde_json::Value, firing: Data<Firing>) -> Result<(), BoxDynError> {
    let expiry: Expiry = match serde_json::from_value(job.clone()) {
        Ok(expiry) => expiry,
        Err(err) => {
            tracing::error!(%job, error = %err, "malformed expiry job: dropped");
            return Err(AbortError::new(err).into());
        }
    };
    let span = tracing::info_span!(
        "expiry", order_id = %expiry.order_id, otel.name = Empty, otel.kind = Empty,
    );
    telemetry::continue_trace(
        &span,
        SpanKind::Internal,
        "expire order",
        expiry.trace.as_ref(),
    );
    firing.fire(&expiry).instrument(span).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_is_camel_case_json_and_its_event_id_is_derived_from_the_order() {
        let order_id = OrderId::parse("64b0f7a2c1d3e4f5a6b7c8d9").expect("id");
        let expiry = Expiry {
            order_id,
            expires_at: DateTime::from_timestamp(1_800_000_000, 500_000_000).expect("time"),
            trace: None,
        };
        let json = serde_json::to_value(&expiry).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "orderId": "64b0f7a2c1d3e4f5a6b7c8d9",
                "expiresAt": "2027-01-15T08:00:00.500Z",
            })
        );
        assert_eq!(
            serde_json::from_value::<Expiry>(json).expect("parses"),
            expiry
        );
        assert_eq!(
            expiry.event().id.as_str(),
            "expiration:64b0f7a2c1d3e4f5a6b7c8d9"
        );
        assert_eq!(expiry.event().id, expiry.event().id);
    }

    #[test]
    fn a_traced_job_keeps_its_trace_context() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let json = serde_json::json!({
            "orderId": "64b0f7a2c1d3e4f5a6b7c8d9",
            "expiresAt": "2027-01-15T08:00:00.500Z",
            "trace": { "traceparent": traceparent },
        });
        let expiry: Expiry = serde_json::from_value(json.clone()).expect("parses");
        assert_eq!(
            expiry.trace,
            Some(TraceContext {
                traceparent: traceparent.to_owned(),
                tracestate: None,
            })
        );
        assert_eq!(serde_json::to_value(&expiry).expect("serializes"), json);
    }
}
