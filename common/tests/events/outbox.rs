use mongodb::bson::{Document, doc};
use ticketing_common::{
    events::{OutboxEntry, OutboxRelay, OutboxSignal, Subject, outbox},
    mongo, testing,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Recorder, bus, quick_options, received, spawn_listener, stream_messages, ticket_created,
};

async fn collection() -> mongodb::Collection<Document> {
    let db = mongo::connect(&testing::mongo_config(), "events-tests")
        .await
        .expect("database");
    db.collection::<Document>("tickets")
}

/// A ticket written with its event in the outbox, as a service does in one atomic write.
async fn write_ticket_with_event(
    tickets: &mongodb::Collection<Document>,
    title: &str,
) -> ticketing_common::events::Envelope<ticketing_common::events::TicketCreated> {
    let event = ticket_created(title);
    let entry = OutboxEntry::new(&event)
        .expect("entry")
        .to_bson()
        .expect("bson");
    tickets
        .insert_one(doc! { "_id": event.data.id, "title": title, outbox::OUTBOX_FIELD: [entry], outbox::PENDING_FIELD: true })
        .await
        .expect("inserted");
    event
}

async fn pending_count(tickets: &mongodb::Collection<Document>) -> usize {
    let doc = tickets
        .find_one(doc! {})
        .await
        .expect("query")
        .expect("a ticket");
    doc.get_array(outbox::OUTBOX_FIELD)
        .map(Vec::len)
        .unwrap_or(0)
}

#[tokio::test]
async fn an_event_written_while_no_relay_ran_is_published_after_restart_exactly_once() {
    let bus = bus().await;
    let tickets = collection().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop, _listener) = spawn_listener(&bus, "orders", Recorder::new("a", tx), quick_options());

    // The state write happened, then the process died before any relay pass.
    let event = write_ticket_with_event(&tickets, "outboxed").await;
    assert_eq!(pending_count(&tickets).await, 1);

    // The restarted service's relay runs.
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    );
    assert_eq!(relay.relay_pending().await.expect("relayed"), 1);
    assert_eq!(
        relay.relay_pending().await.expect("relayed"),
        0,
        "nothing left on a second pass"
    );

    testing::wait_until_handled(&bus, "orders", Subject::TicketCreated, 1).await;
    let received = received(&mut rx);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1, event);
    assert_eq!(
        pending_count(&tickets).await,
        0,
        "marked sent after the ack"
    );
    stop.cancel();
}

#[tokio::test]
async fn a_relay_that_died_between_publish_and_mark_does_not_publish_twice() {
    let bus = bus().await;
    let tickets = collection().await;
    let event = write_ticket_with_event(&tickets, "half relayed").await;
    // The first relay published, then died before removing the event from the outbox.
    bus.publisher().publish(&event).await.expect("published");

    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    );
    relay.relay_pending().await.expect("relayed");

    assert_eq!(
        stream_messages(&bus).await,
        1,
        "the re-publish was dropped by Nats-Msg-Id"
    );
    assert_eq!(pending_count(&tickets).await, 0);
}

#[tokio::test]
async fn a_running_relay_publishes_as_soon_as_it_is_signalled() {
    let bus = bus().await;
    let tickets = collection().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_listener, _listener) =
        spawn_listener(&bus, "orders", Recorder::new("a", tx), quick_options());
    let signal = OutboxSignal::default();
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(
        OutboxRelay::new(bus.publisher(), vec![tickets.clone()], signal.clone())
            .run(shutdown.clone()),
    );

    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(
            write_ticket_with_event(&tickets, &format!("live {i}"))
                .await
                .id,
        );
        signal.notify();
    }

    testing::wait_until_handled(&bus, "orders", Subject::TicketCreated, 10).await;
    let mut got: Vec<_> = received(&mut rx).into_iter().map(|(_, e)| e.id).collect();
    got.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    sent.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(got, sent);
    // The relay marks a batch sent after JetStream's ack, so after the listener saw the events.
    testing::wait_until_relayed(&tickets).await;
    let still_pending = tickets
        .count_documents(doc! { outbox::OUTBOX_FIELD: { "$ne": [] } })
        .await
        .expect("count");
    assert_eq!(
        still_pending, 0,
        "every outbox emptied once its event was acked"
    );
    shutdown.cancel();
    relay.await.expect("relay stops");
    stop_listener.cancel();
}
