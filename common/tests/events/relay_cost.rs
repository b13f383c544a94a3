//! The outbox relay's cost: per batch of documents, however many events they hold, one `update`
//! for what writers handed over and one `find` plus one `update` for what it reads; every
//! document's events on the stream in the document's order.

use std::collections::HashMap;

use mongodb::{
    Collection,
    bson::{Bson, Document, doc},
};
use ticketing_common::{
    domain::{TicketId, Version},
    events::{
        Envelope, EventId, OutboxEntry, OutboxRelay, OutboxSignal, TicketUpdated, outbox::Outbox,
    },
    testing::{self, CommandLog},
};

use crate::helpers::{bus, stream_contents, ticket_created};

/// A fresh collection whose every command is logged.
async fn counted_tickets() -> (Collection<Document>, CommandLog) {
    let (db, log) = testing::counted_database(&testing::mongo_config()).await;
    (db.collection("tickets"), log)
}

/// A ticket document as a service writes it: its `ticket.created`, and for some a
/// `ticket.updated` right behind it, waiting in its outbox. Returns the event ids in order.
fn ticket_document(with_update: bool) -> (Document, Vec<EventId>) {
    let created = ticket_created("outboxed");
    let id = created.data.id;
    let mut entries = vec![OutboxEntry::new(&created).expect("entry")];
    if with_update {
        let updated = Envelope::new(TicketUpdated {
            id,
            version: Version::INITIAL.next(),
            title: "renamed".into(),
            price: created.data.price,
            user_id: created.data.user_id,
            order_id: None,
        });
        entries.push(OutboxEntry::new(&updated).expect("entry"));
    }
    let ids = entries.iter().map(|entry| entry.id.clone()).collect();
    let outbox = mongodb::bson::to_document(&Outbox::new(entries)).expect("outbox");
    let mut document = doc! { "_id": id, "title": "outboxed" };
    document.extend(outbox);
    (document, ids)
}

async fn write_pending(
    tickets: &Collection<Document>,
    count: usize,
    every_other_with_update: bool,
) -> Vec<Vec<EventId>> {
    let (documents, ids): (Vec<_>, Vec<_>) = (0..count)
        .map(|i| ticket_document(every_other_with_update && i % 2 == 0))
        .unzip();
    tickets.insert_many(documents).await.expect("inserted");
    ids
}

fn event_id(payload: &[u8]) -> EventId {
    let envelope: serde_json::Value = serde_json::from_slice(payload).expect("an envelope");
    serde_json::from_value(envelope["id"].clone()).expect("an event id")
}

#[tokio::test]
async fn a_batch_costs_one_find_and_one_update_and_keeps_each_documents_order() {
    let bus = bus().await;
    let (tickets, log) = counted_tickets().await;
    let documents = write_pending(&tickets, 100, true).await;
    let events: usize = documents.iter().map(Vec::len).sum();
    assert_eq!(events, 150);
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    );
    log.take();

    assert_eq!(relay.relay_pending().await.expect("relayed"), events);
    assert_eq!(log.take(), ["find", "update"], "two commands for the batch");

    let stream = stream_contents(&bus, events).await;
    let position: HashMap<EventId, usize> = stream
        .iter()
        .enumerate()
        .map(|(at, (_, payload))| (event_id(payload), at))
        .collect();
    assert_eq!(position.len(), events, "each event once on the stream");
    for ids in &documents {
        let order: Vec<usize> = ids.iter().map(|id| position[id]).collect();
        assert!(
            order.is_sorted(),
            "a document's events are published in its order: {order:?}"
        );
    }

    assert_eq!(relay.relay_pending().await.expect("relayed"), 0);
    assert_eq!(log.take(), ["find"], "nothing pending: no update");
    let pending = tickets
        .count_documents(doc! { "outbox_pending": true })
        .await
        .expect("count");
    assert_eq!(pending, 0, "every document marked sent");
}

#[tokio::test]
async fn a_full_batch_is_followed_by_the_next_until_one_comes_back_short() {
    let bus = bus().await;
    let (tickets, log) = counted_tickets().await;
    write_pending(&tickets, 25, false).await;
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    )
    .with_batch_documents(10);
    log.take();

    assert_eq!(relay.relay_pending().await.expect("relayed"), 25);
    assert_eq!(
        log.take(),
        ["find", "update", "find", "update", "find", "update"],
        "batches of 10, 10 and 5: the short one ends the pass"
    );
}

#[tokio::test]
async fn a_document_whose_event_cannot_be_published_stays_pending_alone() {
    let bus = bus().await;
    let (tickets, log) = counted_tickets().await;
    write_pending(&tickets, 3, false).await;
    let broken = TicketId::new();
    tickets
        .insert_one(doc! {
            "_id": broken,
            "outbox": [{ "id": "bad-1", "subject": "ticket.deleted", "payload": "{}" }],
            "outbox_pending": true,
        })
        .await
        .expect("inserted");
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    );
    log.take();

    let err = relay
        .relay_pending()
        .await
        .expect_err("one document failed");
    assert!(format!("{err:#}").contains("ticket.deleted"), "{err:#}");
    assert_eq!(log.take(), ["find", "update"]);
    let still: Vec<Bson> = tickets
        .distinct("_id", doc! { "outbox_pending": true })
        .await
        .expect("distinct");
    assert_eq!(
        still,
        vec![Bson::from(broken)],
        "the three good ones were marked sent"
    );
}

/// Held documents as a store writes them, each handed to the relay the way its writer does once
/// the write stands. Returns the event ids of each document in order.
async fn hand_over_held(
    tickets: &Collection<Document>,
    signal: &OutboxSignal,
    count: usize,
) -> Vec<Vec<EventId>> {
    let mut handed = Vec::new();
    for i in 0..count {
        let (mut document, ids) = ticket_document(i % 2 == 0);
        document.insert("held", true);
        tickets
            .insert_one(document.clone())
            .await
            .expect("inserted");
        let entries: Vec<OutboxEntry> =
            mongodb::bson::from_bson(document.get("outbox").expect("outbox").clone())
                .expect("entries");
        let id = document.get("_id").expect("an id").clone();
        assert!(signal.hand_over(tickets.name(), id, entries));
        handed.push(ids);
    }
    handed
}

#[tokio::test]
async fn handed_over_events_cost_one_update_and_no_read_and_lift_the_hold() {
    let bus = bus().await;
    let (tickets, log) = counted_tickets().await;
    let signal = OutboxSignal::default();
    let documents = hand_over_held(&tickets, &signal, 20).await;
    let events: usize = documents.iter().map(Vec::len).sum();
    let relay = OutboxRelay::new(bus.publisher(), vec![tickets.clone()], signal);
    log.take();

    assert_eq!(relay.relay_pending().await.expect("relayed"), events);
    assert_eq!(
        log.take(),
        ["update", "find"],
        "the hand-over is one update; the read after it finds nothing held"
    );
    let stream = stream_contents(&bus, events).await;
    let published: Vec<EventId> = stream
        .iter()
        .map(|(_, payload)| event_id(payload))
        .collect();
    assert_eq!(published, documents.concat(), "in the order handed over");
    let unfinished = tickets
        .count_documents(doc! { "$or": [{ "held": true }, { "outbox_pending": true }] })
        .await
        .expect("count");
    assert_eq!(unfinished, 0, "events cleared and holds lifted together");
}

#[tokio::test]
async fn a_held_document_is_not_read_by_the_relay() {
    let bus = bus().await;
    let (tickets, _log) = counted_tickets().await;
    let (mut document, _) = ticket_document(false);
    document.insert("held", true);
    tickets.insert_one(document).await.expect("inserted");
    let relay = OutboxRelay::new(
        bus.publisher(),
        vec![tickets.clone()],
        OutboxSignal::default(),
    );

    assert_eq!(
        relay.relay_pending().await.expect("relayed"),
        0,
        "its writer has not handed it over: the write may still be undone"
    );
    let held = tickets
        .count_documents(doc! { "held": true, "outbox_pending": true })
        .await
        .expect("count");
    assert_eq!(held, 1);
}

#[tokio::test]
async fn a_handed_over_document_that_cannot_be_published_is_handed_back_to_the_read() {
    let bus = bus().await;
    let (tickets, log) = counted_tickets().await;
    let signal = OutboxSignal::default();
    let broken = TicketId::new();
    let entry = OutboxEntry {
        id: serde_json::from_value(serde_json::json!("bad-1")).expect("an id"),
        subject: "ticket.deleted".into(),
        payload: "{}".into(),
        trace: None,
    };
    tickets
        .insert_one(doc! {
            "_id": broken,
            "outbox": [mongodb::bson::to_bson(&entry).expect("bson")],
            "outbox_pending": true,
            "held": true,
        })
        .await
        .expect("inserted");
    assert!(signal.hand_over(tickets.name(), Bson::from(broken), vec![entry]));
    let relay = OutboxRelay::new(bus.publisher(), vec![tickets.clone()], signal);
    log.take();

    let err = relay
        .relay_pending()
        .await
        .expect_err("its event cannot go out");
    assert!(format!("{err:#}").contains("ticket.deleted"), "{err:#}");
    assert_eq!(
        log.take(),
        ["update", "find"],
        "the hand-over marks nothing and hands it back; the read after it finds it, fails again"
    );
    let handed_back = tickets
        .count_documents(doc! { "_id": broken, "held": false, "outbox_pending": true })
        .await
        .expect("count");
    assert_eq!(
        handed_back, 1,
        "pending and no longer held: the read retries it"
    );
}

#[tokio::test]
async fn hand_overs_go_out_in_batches_as_large_as_a_read() {
    let bus = bus().await;
    let (tickets, log) = counted_tickets().await;
    let signal = OutboxSignal::default();
    let documents = hand_over_held(&tickets, &signal, 25).await;
    let events: usize = documents.iter().map(Vec::len).sum();
    let relay =
        OutboxRelay::new(bus.publisher(), vec![tickets.clone()], signal).with_batch_documents(10);
    log.take();

    assert_eq!(relay.relay_pending().await.expect("relayed"), events);
    assert_eq!(
        log.take(),
        ["update", "update", "update", "find"],
        "batches of 10, 10 and 5, so the publishes awaiting acks stay bounded"
    );
}
