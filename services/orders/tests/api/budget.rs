//! Round trips per operation, counted from the driver's command events on the stores the
//! routes and listeners use (issue 13: order create ≤ 5, order cancel ≤ 4, replica apply ≤ 3).

use std::time::Duration;

use orders::{
    lifecycle,
    state::AppState,
    store::{Orders, Reservations, TicketReplica, TicketReplicas},
};
use ticketing_common::{
    domain::{Money, OrderStatus, TicketId, UserId, Version},
    events::OutboxSignal,
    session::Sessions,
    store::Applied,
    testing,
};

async fn counted_state() -> (AppState, testing::CommandLog) {
    ticketing_common::telemetry::init_for_tests();
    let (db, log) = testing::counted_database(&testing::mongo_config()).await;
    let state = AppState {
        orders: Orders::open(&db, OutboxSignal::default())
            .await
            .expect("orders open"),
        tickets: TicketReplicas::open(&db).await.expect("replicas open"),
        reservations: Reservations::open(&db).await.expect("reservations open"),
        sessions: Sessions::new(&testing::session_config(Duration::from_secs(900), false)),
        order_expiration: Duration::from_secs(900),
    };
    log.take();
    (state, log)
}

fn replica(id: TicketId, version: i64) -> TicketReplica {
    TicketReplica {
        id,
        title: format!("Concert v{version}"),
        price: Money::from_cents(2_500).expect("a valid price"),
        version: Version::new(version).expect("a version"),
    }
}

#[tokio::test]
async fn each_order_operation_keeps_to_its_round_trip_budget() {
    let (state, log) = counted_state().await;
    let ticket = TicketId::new();

    assert_eq!(
        state
            .tickets
            .apply(replica(ticket, 0))
            .await
            .expect("apply"),
        Applied::Applied
    );
    assert_eq!(log.take(), ["insert"], "replica: a first version");
    assert_eq!(
        state
            .tickets
            .apply(replica(ticket, 1))
            .await
            .expect("apply"),
        Applied::Applied
    );
    assert_eq!(
        log.take(),
        ["insert", "delete"],
        "replica: the next version after one this instance applied (no read: it remembers)"
    );
    assert_eq!(
        state
            .tickets
            .apply(replica(ticket, 1))
            .await
            .expect("apply"),
        Applied::Duplicate
    );
    assert!(
        log.take().is_empty(),
        "replica: a duplicate of a version this instance applied"
    );

    let order = lifecycle::place_order(&state, UserId::new(), ticket)
        .await
        .expect("placed");
    assert_eq!(
        log.take(),
        ["find", "insert", "insert"],
        "place: read the replica, reserve the ticket, store the order with its event"
    );

    let (cancelled, moved) = lifecycle::cancel_order(&state, order.id)
        .await
        .expect("cancelled");
    assert!(moved);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        log.take(),
        ["find", "insert", "delete", "delete"],
        "cancel: read, store the final version with its event, compact, release the ticket"
    );

    let paid = lifecycle::place_order(&state, UserId::new(), ticket)
        .await
        .expect("placed again once released");
    log.take();
    state
        .orders
        .move_to(paid.id, OrderStatus::Complete)
        .await
        .expect("completed");
    assert_eq!(
        log.take(),
        ["find", "insert", "delete"],
        "payment: complete the order"
    );

    state
        .orders
        .of_user(paid.user_id, None, 50)
        .await
        .expect("list");
    assert_eq!(log.take(), ["find"], "a page of a user's orders");
}
