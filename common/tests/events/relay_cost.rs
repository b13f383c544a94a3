//! The outbox relay's cost: one `find` and one `update` per batch of documents, however many
//! events they hold, with every document's events on the stream in the document's order.

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
