//! The event figures of `/metrics`: published, handled, retried and terminated by subject, the
//! outbox backlog, and what each durable consumer holds. Each test reads the series of its own
//! events prefix (the subject and stream carry it) or its own database (the collection does).

use std::{
    sync::atomic::Ordering,
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use mongodb::bson::{Document, doc};
use ticketing_common::{
    events::{EventBus, OutboxEntry, OutboxRelay, OutboxSignal, Subject, outbox},
    metrics::{self, catalogue},
    mongo, testing,
};
use tokio::sync::mpsc;

use crate::helpers::{Recorder, bus, quick_options, spawn_listener, ticket_created};

/// `bus()`, with the recorder installed: these tests start no HTTP server, which would.
async fn measured_bus() -> EventBus {
    metrics::install();
    bus().await
}

/// Waits until the series reads `expected`; panics with what it read last.
async fn until_reads(name: &str, labels: &[(&str, &str)], expected: f64) {
    until(name, labels, &format!("read {expected}"), |value| {
        value == expected
    })
    .await;
}

/// Waits until the series' value passes `check`; panics with what it read last.
async fn until(name: &str, labels: &[(&str, &str)], what: &str, check: impl Fn(f64) -> bool) {
    let reached = testing::eventually(Duration::from_secs(20), async || {
        metrics::sample(name, labels).filter(|value| check(*value))
    })
    .await;
    assert!(
        reached.is_some(),
        "{name}{labels:?} should {what}, reads {:?}",
        metrics::sample(name, labels)
    );
}

#[tokio::test]
async fn published_handled_retried_and_terminated_events_are_counted_by_subject() {
    let bus = measured_bus().await;
    let subject = bus.names().subject(Subject::TicketCreated);
    let consumer = bus.names().durable("orders", Subject::TicketCreated);
    let (tx, _rx) = mpsc::unbounded_channel();
    let recorder = Recorder::new("a", tx);
    recorder.failures_left.store(1, Ordering::SeqCst);
    let (stop, _listener) = spawn_listener(&bus, "orders", recorder, quick_options());

    let publisher = bus.publisher();
    let first = ticket_created("one");
    publisher.publish(&first).await.expect("published");
    publisher
        .publish(&ticket_created("two"))
        .await
        .expect("published");
    assert!(
        publisher.publish(&first).await.expect("published again"),
        "JetStream already had it"
    );
    // Not an event of ours: it can never be read.
    bus.jetstream()
        .publish(subject.clone(), Bytes::from_static(b"not json"))
        .await
        .expect("sent")
        .await
        .expect("stored");

    let events = [
        ("subject", subject.as_str()),
        ("consumer", consumer.as_str()),
    ];
    until_reads(catalogue::EVENTS_HANDLED, &events, 2.0).await;
    until_reads(
        catalogue::EVENTS_RETRIED,
        &[events[0], events[1], ("reason", "failed")],
        1.0,
    )
    .await;
    until_reads(
        catalogue::EVENTS_TERMINATED,
        &[events[0], events[1], ("reason", "malformed")],
        1.0,
    )
    .await;
    assert_eq!(
        metrics::sample(catalogue::EVENTS_PUBLISHED, &[events[0]]),
        Some(2.0),
        "two new events; the repeat is a duplicate and the unreadable one bypassed the publisher"
    );
    stop.cancel();
}

#[tokio::test]
async fn each_consumer_reports_what_it_has_not_delivered_acked_or_delivered_only_once() {
    let bus = measured_bus().await;
    let stream = bus.names().stream();
    let consumer = bus.names().durable("orders", Subject::TicketCreated);
    let labels = [("stream", stream.as_str()), ("consumer", consumer.as_str())];
    let publisher = bus.publisher();
    for title in ["a", "b", "c"] {
        publisher
            .publish(&ticket_created(title))
            .await
            .expect("published");
    }
    // One event at a time, and the first one's handler kept busy: one delivered and unacked,
    // two not delivered yet.
    let (tx, _rx) = mpsc::unbounded_channel();
    let recorder = Recorder::new("a", tx);
    let busy = recorder.gate.clone().lock_owned().await;
    let options = ticketing_common::events::ListenerOptions {
        concurrency: 1,
        state_every: Duration::from_millis(50),
        ..quick_options()
    };
    let (stop, _listener) = spawn_listener(&bus, "orders", recorder.clone(), options);

    until_reads(catalogue::CONSUMER_ACK_PENDING, &labels, 1.0).await;
    until_reads(catalogue::CONSUMER_PENDING, &labels, 2.0).await;
    until_reads(catalogue::CONSUMER_REDELIVERED, &labels, 0.0).await;

    // From now on every attempt fails: the events come back, and stay redelivered until acked.
    recorder.failures_left.store(usize::MAX, Ordering::SeqCst);
    drop(busy);
    until(
        catalogue::CONSUMER_REDELIVERED,
        &labels,
        "be 1 or more",
        |n| n >= 1.0,
    )
    .await;

    recorder.failures_left.store(0, Ordering::SeqCst);
    until_reads(catalogue::CONSUMER_PENDING, &labels, 0.0).await;
    until_reads(catalogue::CONSUMER_ACK_PENDING, &labels, 0.0).await;
    until_reads(catalogue::CONSUMER_REDELIVERED, &labels, 0.0).await;
    stop.cancel();
}

#[tokio::test]
async fn the_relay_reports_the_backlog_it_found_and_the_age_of_its_oldest_event() {
    let bus = measured_bus().await;
    let db = mongo::connect(&testing::mongo_config(), "events-tests")
        .await
        .expect("database");
    let tickets = db.collection::<Document>("tickets");
    let namespace = tickets.namespace().to_string();
    let labels = [("collection", namespace.as_str())];

    // Two events written a minute and a half ago, while no relay ran.
    let minute_and_a_half = Duration::from_secs(90);
    let started = SystemTime::now();
    for title in ["late", "later"] {
        let mut event = ticket_created(title);
        event.occurred_at -= minute_and_a_half;
        let entry = OutboxEntry::new(&event)
            .expect("entry")
            .to_bson()
            .expect("bson");
        tickets
            .insert_one(doc! { "_id": event.data.id, outbox::OUTBOX_FIELD: [entry], outbox::PENDING_FIELD: true })
            .await
            .expect("inserted");
    }
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    );
    assert_eq!(relay.relay_pending().await.expect("relayed"), 2);

    assert_eq!(
        metrics::sample(catalogue::OUTBOX_PENDING, &labels),
        Some(2.0)
    );
    let age = metrics::sample(catalogue::OUTBOX_OLDEST_PENDING_AGE, &labels).expect("an age");
    let took = started.elapsed().unwrap_or_default();
    assert!(
        age >= minute_and_a_half.as_secs_f64()
            && age <= (minute_and_a_half + took + Duration::from_secs(1)).as_secs_f64(),
        "{age}"
    );
    let subject = bus.names().subject(Subject::TicketCreated);
    assert_eq!(
        metrics::sample(catalogue::EVENTS_PUBLISHED, &[("subject", &subject)]),
        Some(2.0)
    );

    assert_eq!(relay.relay_pending().await.expect("relayed"), 0);
    assert_eq!(
        metrics::sample(catalogue::OUTBOX_PENDING, &labels),
        Some(0.0)
    );
    assert_eq!(
        metrics::sample(catalogue::OUTBOX_OLDEST_PENDING_AGE, &labels),
        Some(0.0)
    );
}
