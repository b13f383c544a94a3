//! Every figure the fleet keeps, in one place: its name, what it counts (the `# HELP` line), its
//! labels and, for histograms, its buckets, with the one function that records it. Callers name
//! what happened ([`event_handled`], [`payment`]); they never spell a metric name.
//!
//! Labels stay few and bounded: route templates (never raw paths), subjects, durable consumer
//! names, collections, queues, fixed outcome words. Subjects are the wire subjects (with the
//! events prefix, if any) and collections carry their database, so two fleets, or two tests,
//! sharing one NATS server or one process never add into each other's series.

use std::time::Duration;

use ::metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

/// Requests answered, by `method`, `route` (the template, e.g. `/api/tickets/{id}`) and `status`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// Time from a request's arrival to its response's head, same labels as [`HTTP_REQUESTS`].
pub const HTTP_REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Events JetStream acknowledged as new (a duplicate of an id it had is not counted), by `subject`.
pub const EVENTS_PUBLISHED: &str = "ticketing_events_published_total";
/// Events a listener handled and acked, by `subject` and `consumer` (the durable name).
pub const EVENTS_HANDLED: &str = "ticketing_events_handled_total";
/// Events handed back to come again later, by `subject`, `consumer` and `reason`
/// (`early`: before the change it follows; `failed`: the handler failed).
pub const EVENTS_RETRIED: &str = "ticketing_events_retried_total";
/// Events given up on, by `subject`, `consumer` and `reason` (`poison`: the handler can never
/// handle it; `malformed`: it cannot be read; `max_deliver`: its last allowed delivery failed).
pub const EVENTS_TERMINATED: &str = "ticketing_events_terminated_total";
/// Unpublished events the outbox relay found on its last pass, by `collection` (`db.collection`).
pub const OUTBOX_PENDING: &str = "ticketing_outbox_pending_events";
/// Age of the oldest of them (0 when none), by `collection`.
pub const OUTBOX_OLDEST_PENDING_AGE: &str = "ticketing_outbox_oldest_pending_age_seconds";
/// A durable consumer's events not yet delivered, by `stream` and `consumer`.
pub const CONSUMER_PENDING: &str = "ticketing_consumer_pending_events";
/// A durable consumer's events delivered and not yet acked, by `stream` and `consumer`.
pub const CONSUMER_ACK_PENDING: &str = "ticketing_consumer_ack_pending_events";
/// A durable consumer's events delivered more than once and not yet acked, by `stream` and
/// `consumer`.
pub const CONSUMER_REDELIVERED: &str = "ticketing_consumer_redelivered_events";
/// How long after its order's expiry an expiration job's event was acked, by `queue`.
pub const EXPIRATION_LATENESS: &str = "ticketing_expiration_lateness_seconds";
/// Expiration jobs waiting, by `queue` and `state` (`scheduled`: not due yet; `due`: queued to run).
pub const EXPIRATION_JOBS_PENDING: &str = "ticketing_expiration_jobs_pending";
/// What became of payments, by `outcome` ([`PaymentOutcome`]).
pub const PAYMENTS: &str = "ticketing_payments_total";
/// Documents inserted through a group insert (`crate::mongo::GroupInsert`), by `collection`.
pub const INSERTED_DOCUMENTS: &str = "ticketing_inserted_documents_total";
/// The `insert` commands that carried them, by `collection`: documents per command is how much
/// the grouping saves the database (1 when idle).
pub const INSERT_COMMANDS: &str = "ticketing_insert_commands_total";

/// Every figure above (the dashboard, `infra/grafana/ticketing-dashboard.json`, shows each).
pub const ALL: [&str; 16] = [
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
    EVENTS_PUBLISHED,
    EVENTS_HANDLED,
    EVENTS_RETRIED,
    EVENTS_TERMINATED,
    OUTBOX_PENDING,
    OUTBOX_OLDEST_PENDING_AGE,
    CONSUMER_PENDING,
    CONSUMER_ACK_PENDING,
    CONSUMER_REDELIVERED,
    EXPIRATION_LATENESS,
    EXPIRATION_JOBS_PENDING,
    PAYMENTS,
    INSERTED_DOCUMENTS,
    INSERT_COMMANDS,
];

/// Request latency: the API answers in milliseconds; 30 s is the request timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Expiration lateness: on time is well under a second (the worker polls every 200 ms); a
/// worker that was down fires its backlog minutes late.
const LATENESS_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// The builder with the histograms' buckets (without them histograms render as summaries).
pub(super) fn with_buckets(builder: PrometheusBuilder) -> Result<PrometheusBuilder, BuildError> {
    builder
        .set_buckets_for_metric(Matcher::Full(HTTP_REQUEST_DURATION.into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(EXPIRATION_LATENESS.into()), LATENESS_BUCKETS)
}

/// The `# HELP` lines.
pub(super) fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by method, route template and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method, route template and status."
    );
    describe_counter!(
        EVENTS_PUBLISHED,
        Unit::Count,
        "Events JetStream acknowledged as new, by subject."
    );
    describe_counter!(
        EVENTS_HANDLED,
        Unit::Count,
        "Events handled and acked, by subject and consumer."
    );
    describe_counter!(
        EVENTS_RETRIED,
        Unit::Count,
        "Events handed back to be redelivered later, by subject, consumer and reason."
    );
    describe_counter!(
        EVENTS_TERMINATED,
        Unit::Count,
        "Events given up on, by subject, consumer and reason."
    );
    describe_gauge!(
        OUTBOX_PENDING,
        Unit::Count,
        "Unpublished events the outbox relay found on its last pass, by collection."
    );
    describe_gauge!(
        OUTBOX_OLDEST_PENDING_AGE,
        Unit::Seconds,
        "Age of the oldest unpublished event on the relay's last pass, by collection."
    );
    describe_gauge!(
        CONSUMER_PENDING,
        Unit::Count,
        "Events a durable consumer has not delivered yet."
    );
    describe_gauge!(
        CONSUMER_ACK_PENDING,
        Unit::Count,
        "Events a durable consumer delivered that are not acked yet."
    );
    describe_gauge!(
        CONSUMER_REDELIVERED,
        Unit::Count,
        "Events a durable consumer delivered more than once that are not acked yet."
    );
    describe_histogram!(
        EXPIRATION_LATENESS,
        Unit::Seconds,
        "How long after the order's expiry its expiration.complete was published."
    );
    describe_gauge!(
        EXPIRATION_JOBS_PENDING,
        Unit::Count,
        "Expiration jobs waiting, by state (scheduled, due)."
    );
    describe_counter!(
        PAYMENTS,
        Unit::Count,
        "Payments by outcome (succeeded, declined, invalid, gateway_error, refunded)."
    );
    describe_counter!(
        INSERTED_DOCUMENTS,
        Unit::Count,
        "Documents inserted through a group insert, by collection."
    );
    describe_counter!(
        INSERT_COMMANDS,
        Unit::Count,
        "Insert commands that carried them, by collection."
    );
}

/// One answered request. `route` is the matched template, or [`http::UNMATCHED`](super::http::UNMATCHED).
pub fn http_request(method: &'static str, route: String, status: u16, took: Duration) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status.to_string()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    histogram!(HTTP_REQUEST_DURATION, &labels).record(took.as_secs_f64());
}

pub fn event_published(subject: &str) {
    counter!(EVENTS_PUBLISHED, "subject" => subject.to_owned()).increment(1);
}

pub fn event_handled(subject: &str, consumer: &str) {
    counter!(EVENTS_HANDLED, "subject" => subject.to_owned(), "consumer" => consumer.to_owned())
        .increment(1);
}

/// Why an event comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRetry {
    /// It arrived before the change it follows.
    Early,
    /// Its handler failed (or panicked).
    Failed,
}

pub fn event_retried(subject: &str, consumer: &str, reason: EventRetry) {
    let reason = match reason {
        EventRetry::Early => "early",
        EventRetry::Failed => "failed",
    };
    counter!(EVENTS_RETRIED, "subject" => subject.to_owned(), "consumer" => consumer.to_owned(), "reason" => reason)
        .increment(1);
}

/// Why an event is given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTermination {
    Poison,
    Malformed,
    /// Its last allowed delivery failed: JetStream delivers it no more.
    MaxDeliver,
}

pub fn event_terminated(subject: &str, consumer: &str, reason: EventTermination) {
    let reason = match reason {
        EventTermination::Poison => "poison",
        EventTermination::Malformed => "malformed",
        EventTermination::MaxDeliver => "max_deliver",
    };
    counter!(EVENTS_TERMINATED, "subject" => subject.to_owned(), "consumer" => consumer.to_owned(), "reason" => reason)
        .increment(1);
}

/// One `insert` command of a group insert carried `documents` into `collection`.
pub fn insert_command(collection: &str, documents: usize) {
    counter!(INSERT_COMMANDS, "collection" => collection.to_owned()).increment(1);
    counter!(INSERTED_DOCUMENTS, "collection" => collection.to_owned())
        .increment(u64::try_from(documents).unwrap_or(u64::MAX));
}

/// What the outbox relay found pending in `collection` on one pass.
pub fn outbox_backlog(collection: &str, events: usize, oldest_age: Duration) {
    gauge!(OUTBOX_PENDING, "collection" => collection.to_owned()).set(events as f64);
    gauge!(OUTBOX_OLDEST_PENDING_AGE, "collection" => collection.to_owned())
        .set(oldest_age.as_secs_f64());
}

/// A durable consumer's state as JetStream reported it.
pub fn consumer_state(
    stream: &str,
    consumer: &str,
    pending: u64,
    ack_pending: usize,
    redelivered: usize,
) {
    let labels = [
        ("stream", stream.to_owned()),
        ("consumer", consumer.to_owned()),
    ];
    gauge!(CONSUMER_PENDING, &labels).set(pending as f64);
    gauge!(CONSUMER_ACK_PENDING, &labels).set(ack_pending as f64);
    gauge!(CONSUMER_REDELIVERED, &labels).set(redelivered as f64);
}

/// An expiration job's event was acked `lateness` after its order's expiry.
pub fn expiration_fired(queue: &str, lateness: Duration) {
    histogram!(EXPIRATION_LATENESS, "queue" => queue.to_owned()).record(lateness.as_secs_f64());
}

/// The jobs of `queue` not due yet (`scheduled`) and due, waiting for a worker (`due`).
pub fn expiration_jobs_pending(queue: &str, scheduled: u64, due: u64) {
    gauge!(EXPIRATION_JOBS_PENDING, "queue" => queue.to_owned(), "state" => "scheduled")
        .set(scheduled as f64);
    gauge!(EXPIRATION_JOBS_PENDING, "queue" => queue.to_owned(), "state" => "due").set(due as f64);
}

/// What became of a payment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The charge went through and paid its order.
    Succeeded,
    /// Stripe declined the card.
    Declined,
    /// Stripe refused the request as invalid (an unknown or used token, an amount too small).
    Invalid,
    /// Stripe could not be reached, failed, or answered something unusable.
    GatewayError,
    /// A charge was given back (its order was cancelled, or another charge paid it).
    Refunded,
}

impl PaymentOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined => "declined",
            Self::Invalid => "invalid",
            Self::GatewayError => "gateway_error",
            Self::Refunded => "refunded",
        }
    }
}

pub fn payment(outcome: PaymentOutcome) {
    counter!(PAYMENTS, "outcome" => outcome.as_str()).increment(1);
}
