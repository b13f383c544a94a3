use std::{collections::HashSet, sync::atomic::Ordering, time::Duration};

use ticketing_common::events::{Envelope, EventId, Subject};
use tokio::sync::mpsc;

use crate::helpers::{
    Recorder, bus, quick_options, received, spawn_listener, stream_messages, ticket_created,
};
use ticketing_common::testing::wait_until_caught_up;

#[tokio::test]
async fn two_instances_sharing_a_durable_split_the_work_and_each_event_is_handled_once() {
    let bus = bus().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_a, _a) = spawn_listener(
        &bus,
        "orders",
        Recorder::new("a", tx.clone()),
        quick_options(),
    );
    let (stop_b, _b) = spawn_listener(&bus, "orders", Recorder::new("b", tx), quick_options());
    let publisher = bus.publisher();

    let mut sent = HashSet::new();
    for i in 0..100 {
        let event = ticket_created(&format!("concert {i}"));
        sent.insert(event.id.clone());
        publisher.publish(&event).await.expect("published");
        // Spread the events over time so both pulls are waiting for work.
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    let received = received(&mut rx);
    let ids: Vec<EventId> = received.iter().map(|(_, e)| e.id.clone()).collect();
    assert_eq!(ids.len(), 100, "every event handled exactly once");
    assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), sent);
    let by_a = received.iter().filter(|(tag, _)| *tag == "a").count();
    assert!(
        by_a > 0 && by_a < 100,
        "both instances got work: a handled {by_a} of 100"
    );
    stop_a.cancel();
    stop_b.cancel();
}

#[tokio::test]
async fn a_handler_that_fails_once_gets_the_event_again() {
    let bus = bus().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let recorder = Recorder::new("a", tx);
    recorder.failures_left.store(1, Ordering::SeqCst);
    let attempts = recorder.attempts.clone();
    let (stop, _task) = spawn_listener(&bus, "orders", recorder, quick_options());

    let event = ticket_created("retry me");
    bus.publisher().publish(&event).await.expect("published");

    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    let received = received(&mut rx);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1, event);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        2,
        "one failure, one success"
    );
    stop.cancel();
}

#[tokio::test]
async fn a_listener_dropped_before_acking_does_not_lose_the_event() {
    let bus = bus().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stuck = Recorder::new("stuck", tx.clone());
    let gate = stuck.gate.clone();
    let held = gate.lock().await;
    let attempts = stuck.attempts.clone();
    let (_stop, task) = spawn_listener(&bus, "orders", stuck, quick_options());

    let event = ticket_created("do not lose me");
    bus.publisher().publish(&event).await.expect("published");
    ticketing_common::testing::eventually(Duration::from_secs(3), || async {
        (attempts.load(Ordering::SeqCst) > 0).then_some(())
    })
    .await
    .expect("the first instance picked the event up");
    // The process dies mid-handler: no ack, no nak.
    task.abort();
    drop(held);

    let (stop, _task) = spawn_listener(
        &bus,
        "orders",
        Recorder::new("rescuer", tx),
        quick_options(),
    );
    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    let received = received(&mut rx);
    assert_eq!(received.len(), 1, "redelivered after ack_wait");
    assert_eq!(received[0].0, "rescuer");
    assert_eq!(received[0].1.id, event.id);
    stop.cancel();
}

#[tokio::test]
async fn one_event_published_twice_is_delivered_once() {
    let bus = bus().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop, _task) = spawn_listener(&bus, "orders", Recorder::new("a", tx), quick_options());
    let event = ticket_created("twice");

    let first = bus.publisher().publish(&event).await.expect("published");
    let again = Envelope {
        occurred_at: chrono::Utc::now(),
        ..event.clone()
    };
    let second = bus.publisher().publish(&again).await.expect("published");

    assert!(!first, "the first publish is new");
    assert!(second, "JetStream reports the second as a duplicate");
    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    let received = received(&mut rx);
    assert_eq!(received.len(), 1);
    assert_eq!(stream_messages(&bus).await, 1);
    stop.cancel();
}

#[tokio::test]
async fn shutdown_while_a_handler_runs_loses_nothing() {
    let bus = bus().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let slow = Recorder::new("slow", tx.clone());
    let gate = slow.gate.clone();
    let held = gate.lock().await;
    let attempts = slow.attempts.clone();
    let (stop, task) = spawn_listener(&bus, "orders", slow, quick_options());
    let events: Vec<_> = (0..5)
        .map(|i| ticket_created(&format!("in flight {i}")))
        .collect();
    for event in &events {
        bus.publisher().publish(event).await.expect("published");
    }
    ticketing_common::testing::eventually(Duration::from_secs(3), || async {
        (attempts.load(Ordering::SeqCst) > 0).then_some(())
    })
    .await
    .expect("a handler is running");

    // SIGTERM arrives while the handler runs; then the handler finishes.
    stop.cancel();
    drop(held);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the listener stops promptly")
        .expect("task joined")
        .expect("listener ended cleanly");

    // A new instance gets everything the stopped one did not finish.
    let (stop, _task) = spawn_listener(&bus, "orders", Recorder::new("next", tx), quick_options());
    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    let received = received(&mut rx);
    let ids: HashSet<EventId> = received.iter().map(|(_, e)| e.id.clone()).collect();
    let expected: HashSet<EventId> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        ids, expected,
        "every event handled by one instance or the other"
    );
    assert_eq!(received.len(), 5, "and none twice");
    stop.cancel();
}
