//! Round trips per operation, counted from the driver's command events on the store the
//! routes and listeners use (issue 13: create ≤ 2, edit ≤ 4; a page of the list, one query per
//! shelf it reads).

use ticketing_common::{
    domain::{Money, OrderId, UserId},
    events::OutboxSignal,
    store::Applied,
    testing,
};
use tickets::{
    domain::Title,
    store::{Tickets, for_sale},
};

async fn counted_tickets() -> (Tickets, testing::CommandLog) {
    ticketing_common::telemetry::init_for_tests();
    let (db, log) = testing::counted_database(&testing::mongo_config()).await;
    let tickets = Tickets::open(&db, OutboxSignal::default())
        .await
        .expect("store opens");
    log.take();
    (tickets, log)
}

fn title(raw: &str) -> Title {
    Title::parse(raw).expect("a valid title")
}

fn price() -> Money {
    Money::from_cents(2_500).expect("a valid price")
}

#[tokio::test]
async fn each_ticket_operation_keeps_to_its_round_trip_budget() {
    let (tickets, log) = counted_tickets().await;
    let owner = UserId::new();

    let ticket = tickets
        .create(title("Concert"), price(), owner)
        .await
        .expect("create");
    assert_eq!(log.take(), ["insert"], "create");

    tickets.find(ticket.id).await.expect("find");
    assert_eq!(log.take(), ["find"], "show");

    tickets
        .edit(ticket.id, owner, title("Concert, row 2"), price())
        .await
        .expect("edit");
    assert_eq!(
        log.take(),
        ["find", "insert", "delete"],
        "edit: read, insert the next version, compact the old one (its event goes to the relay)"
    );

    let order = OrderId::new();
    assert_eq!(
        tickets.reserve(ticket.id, order).await.expect("reserve"),
        Applied::Applied
    );
    assert_eq!(
        log.take(),
        ["find", "insert", "delete", "insert"],
        "reserve: a change, then the claim of the order, which a cancellation that overtook it \
         would hold"
    );

    assert_eq!(
        tickets.release(ticket.id, order).await.expect("release"),
        Applied::Applied
    );
    assert_eq!(
        log.take(),
        ["insert", "update", "find", "insert", "delete"],
        "release: remember the cancellation (on the reservation's claim), then a change"
    );

    tickets.list_for_sale(None, 50).await.expect("list");
    assert_eq!(
        log.take(),
        vec!["find"; usize::from(for_sale::SHELVES)],
        "a page of the list: one find per shelf until the page is full (here: never)"
    );
}
