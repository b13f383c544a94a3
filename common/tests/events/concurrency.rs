//! A listener holds up to `concurrency` events at once, runs one entity's events in delivery
//! order, keeps long handlers' messages with progress acks, and loses nothing on shutdown.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ticketing_common::{
    domain::{Money, TicketId, UserId, Version},
    events::{
        Envelope, EventId, HandleError, Listener, ListenerOptions, Subject, TicketCreated,
        TicketUpdated,
    },
    testing,
};
use tokio::sync::{Barrier, watch};

use crate::helpers::{bus, quick_options, spawn_listener, ticket_created};
use ticketing_common::testing::wait_until_caught_up;

fn options(concurrency: usize) -> ListenerOptions {
    ListenerOptions {
        concurrency,
        ..quick_options()
    }
}

fn ticket_updated(id: TicketId, version: i64) -> Envelope<TicketUpdated> {
    Envelope::new(TicketUpdated {
        id,
        version: Version::new(version).expect("version"),
        title: format!("v{version}"),
        price: Money::from_cents(100 + version).expect("money"),
        user_id: UserId::new(),
        order_id: None,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many handlers run right now, and the most that ever ran together.
#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// Waits until `parties` handlers wait together: impossible one at a time.
struct Rendezvous {
    barrier: Arc<Barrier>,
    gauge: Gauge,
}

impl Listener for Rendezvous {
    type Event = TicketCreated;

    async fn handle(&self, _event: Envelope<TicketCreated>) -> Result<(), HandleError> {
        self.gauge.enter();
        let met = tokio::time::timeout(Duration::from_secs(10), self.barrier.wait()).await;
        self.gauge.leave();
        met.map(|_| ())
            .map_err(|_| HandleError::Retry(anyhow::anyhow!("nobody else came")))
    }
}

#[tokio::test]
async fn handlers_run_together_up_to_the_concurrency_and_no_further() {
    let bus = bus().await;
    let gauge = Gauge::default();
    for i in 0..12 {
        let event = ticket_created(&format!("together {i}"));
        bus.publisher().publish(&event).await.expect("published");
    }
    let listener = Rendezvous {
        barrier: Arc::new(Barrier::new(4)),
        gauge: gauge.clone(),
    };
    let (stop, _task) = spawn_listener(&bus, "orders", listener, options(4));

    // Three groups of four meet at the barrier; one at a time, the first would wait alone.
    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    assert_eq!(gauge.peak(), 4, "never more than the concurrency at once");
    stop.cancel();
}

/// A ticket replica kept in memory with the version check every service applies: `v` applies
/// only on top of `v-1`; below is a duplicate, above is early.
#[derive(Clone, Default)]
struct VersionedReplica {
    versions: Arc<Mutex<HashMap<TicketId, i64>>>,
    applied: Arc<Mutex<Vec<(TicketId, i64)>>>,
    running: Arc<Mutex<HashSet<TicketId>>>,
    overlaps: Arc<AtomicUsize>,
    early: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
    gauge: Gauge,
}

impl VersionedReplica {
    fn applied_to(&self, id: TicketId) -> Vec<i64> {
        lock(&self.applied)
            .iter()
            .filter(|(ticket, _)| *ticket == id)
            .map(|(_, version)| *version)
            .collect()
    }

    fn apply(&self, id: TicketId, version: i64) -> Result<(), HandleError> {
        let mut versions = lock(&self.versions);
        let held = versions.get(&id).copied().unwrap_or(-1);
        if version <= held {
            return Ok(()); // a duplicate: already applied
        }
        if version > held + 1 {
            self.early.fetch_add(1, Ordering::SeqCst);
            return Err(HandleError::Early);
        }
        versions.insert(id, version);
        lock(&self.applied).push((id, version));
        Ok(())
    }
}

impl Listener for VersionedReplica {
    type Event = TicketUpdated;

    async fn handle(&self, event: Envelope<TicketUpdated>) -> Result<(), HandleError> {
        let id = event.data.id;
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !lock(&self.running).insert(id) {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        self.gauge.enter();
        // Read, then write after a pause, as a database round trip would: two events of one
        // ticket running together would both read the old version.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let outcome = self.apply(id, event.data.version.get());
        self.gauge.leave();
        lock(&self.running).remove(&id);
        outcome
    }
}

#[tokio::test]
async fn one_tickets_versions_run_in_order_while_tickets_run_together() {
    let bus = bus().await;
    let tickets: Vec<TicketId> = (0..4).map(|_| TicketId::new()).collect();
    // Interleaved and all in the stream before the listener starts, so its first pull takes
    // several versions of every ticket at once.
    for version in 0..8 {
        for id in &tickets {
            let event = ticket_updated(*id, version);
            bus.publisher().publish(&event).await.expect("published");
        }
    }
    let replica = VersionedReplica::default();
    let (stop, _task) = spawn_listener(&bus, "orders", replica.clone(), options(16));

    wait_until_caught_up(&bus, "orders", Subject::TicketUpdated).await;
    for id in &tickets {
        assert_eq!(replica.applied_to(*id), (0..8).collect::<Vec<_>>());
    }
    assert_eq!(
        replica.early.load(Ordering::SeqCst),
        0,
        "no version ran before its predecessor finished"
    );
    assert_eq!(replica.overlaps.load(Ordering::SeqCst), 0);
    assert!(
        replica.gauge.peak() > 1,
        "different tickets ran together (peak {})",
        replica.gauge.peak()
    );
    stop.cancel();
}

#[tokio::test]
async fn duplicates_and_versions_out_of_order_settle_on_the_latest() {
    let bus = bus().await;
    let (a, b) = (TicketId::new(), TicketId::new());
    let v1 = ticket_updated(a, 1);
    let deliveries = [
        ticket_updated(a, 0),
        ticket_updated(a, 2),
        v1.clone(),
        // Re-emitted with a new id, so JetStream does not drop it: the version check must.
        Envelope::with_id(EventId::new(), v1.data),
        ticket_updated(b, 1),
        ticket_updated(b, 0),
    ];
    for event in &deliveries {
        bus.publisher().publish(event).await.expect("published");
    }
    let replica = VersionedReplica::default();
    let (stop, _task) = spawn_listener(&bus, "orders", replica.clone(), options(8));

    wait_until_caught_up(&bus, "orders", Subject::TicketUpdated).await;
    assert_eq!(
        replica.applied_to(a),
        vec![0, 1, 2],
        "each version applied once, in order"
    );
    assert_eq!(replica.applied_to(b), vec![0, 1]);
    assert!(
        replica.early.load(Ordering::SeqCst) >= 2,
        "a's v2 and b's v1 came early and came back"
    );
    stop.cancel();
}

/// Takes far longer than ack_wait on its first event, or records that a redelivery reached it.
#[derive(Clone)]
struct Slow {
    run_for: Duration,
    attempts: Arc<AtomicUsize>,
}

impl Slow {
    fn new(run_for: Duration) -> Self {
        Self {
            run_for,
            attempts: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

impl Listener for Slow {
    type Event = TicketCreated;

    async fn handle(&self, _event: Envelope<TicketCreated>) -> Result<(), HandleError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.run_for).await;
        Ok(())
    }
}

#[tokio::test]
async fn progress_acks_keep_a_long_handler_from_being_redelivered_elsewhere() {
    let bus = bus().await;
    let short = ListenerOptions {
        ack_wait: Duration::from_secs(1),
        ..options(1)
    };
    // Concurrency 1: while it runs, this replica asks for nothing, so a redelivery could only
    // go to the other replica.
    let slow = Slow::new(Duration::from_millis(3_500));
    let (stop_slow, _slow) = spawn_listener(&bus, "orders", slow.clone(), short.clone());
    let event = ticket_created("takes a while");
    bus.publisher().publish(&event).await.expect("published");
    testing::eventually(Duration::from_secs(5), || async {
        (slow.attempts() > 0).then_some(())
    })
    .await
    .expect("the slow replica started the event");
    let other = Slow::new(Duration::ZERO);
    let (stop_other, _other) = spawn_listener(&bus, "orders", other.clone(), short);

    // Without progress acks the event would be redelivered after 1 s, to the other replica,
    // which counts it at once: long before the slow one finishes at 3.5 s.
    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    assert_eq!(slow.attempts(), 1);
    assert_eq!(other.attempts(), 0, "the event was never redelivered");
    stop_slow.cancel();
    stop_other.cancel();
}

/// Records each event it finishes, tagged; waits for the gate to open first.
#[derive(Clone)]
struct Gated {
    tag: &'static str,
    open: watch::Receiver<bool>,
    started: Arc<AtomicUsize>,
    handled: Arc<Mutex<Vec<(&'static str, EventId)>>>,
}

impl Listener for Gated {
    type Event = TicketUpdated;

    async fn handle(&self, event: Envelope<TicketUpdated>) -> Result<(), HandleError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.clone();
        open.wait_for(|open| *open)
            .await
            .map_err(|_| HandleError::Retry(anyhow::anyhow!("test gone")))?;
        lock(&self.handled).push((self.tag, event.id));
        Ok(())
    }
}

#[tokio::test]
async fn shutdown_finishes_the_running_and_hands_back_the_waiting() {
    let bus = bus().await;
    let tickets: Vec<TicketId> = (0..4).map(|_| TicketId::new()).collect();
    let mut sent = HashSet::new();
    for version in 0..5 {
        for id in &tickets {
            let event = ticket_updated(*id, version);
            sent.insert(event.id.clone());
            bus.publisher().publish(&event).await.expect("published");
        }
    }
    let (gate, open) = watch::channel(false);
    let handled = Arc::new(Mutex::new(Vec::new()));
    let first = Gated {
        tag: "first",
        open,
        started: Arc::new(AtomicUsize::new(0)),
        handled: handled.clone(),
    };
    let started = first.started.clone();
    let (stop, task) = spawn_listener(&bus, "orders", first, options(8));
    // Eight held: each ticket's v0 runs, its v1 waits behind it.
    testing::eventually(Duration::from_secs(5), || async {
        (started.load(Ordering::SeqCst) == 4).then_some(())
    })
    .await
    .expect("one event of each ticket running");

    // SIGTERM while four run and four wait; then the running ones finish.
    stop.cancel();
    gate.send_replace(true);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the listener stops promptly")
        .expect("task joined")
        .expect("listener ended cleanly");

    let (_, open) = watch::channel(true);
    let next = Gated {
        tag: "next",
        open,
        started: Arc::new(AtomicUsize::new(0)),
        handled: handled.clone(),
    };
    let (stop, _task) = spawn_listener(&bus, "orders", next, options(8));
    wait_until_caught_up(&bus, "orders", Subject::TicketUpdated).await;
    let handled = lock(&handled).clone();
    let by_first = handled.iter().filter(|(tag, _)| *tag == "first").count();
    assert_eq!(by_first, 4, "the running events finished before the stop");
    let ids: HashSet<EventId> = handled.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids, sent, "every event handled by one replica or the other");
    assert_eq!(handled.len(), sent.len(), "and none twice");
    stop.cancel();
}

/// Panics on its first call, then succeeds.
#[derive(Clone, Default)]
struct PanicsOnce {
    calls: Arc<AtomicUsize>,
}

impl Listener for PanicsOnce {
    type Event = TicketCreated;

    async fn handle(&self, _event: Envelope<TicketCreated>) -> Result<(), HandleError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("a bug in the handler");
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_handler_that_panics_gets_its_event_again_and_the_listener_goes_on() {
    let bus = bus().await;
    let listener = PanicsOnce::default();
    let calls = listener.calls.clone();
    let (stop, task) = spawn_listener(&bus, "orders", listener, options(4));
    let event = ticket_created("panics once");
    bus.publisher().publish(&event).await.expect("published");

    wait_until_caught_up(&bus, "orders", Subject::TicketCreated).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one panic, one success");
    assert!(!task.is_finished(), "the listener still runs");
    stop.cancel();
}
