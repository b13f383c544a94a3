use ticketing_common::domain::OrderId;

use crate::helpers::{in_millis, spawn_app};

#[tokio::test]
async fn a_repeated_order_created_schedules_no_second_expiry() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;
    let order = OrderId::new();
    let expires_at = in_millis(1_500);

    // Two events for one order (different event ids, so JetStream keeps both: a re-emission).
    app.publish_order_created(order, expires_at).await;
    app.publish_order_created(order, expires_at).await;
    app.wait_until_handled(2).await;

    assert_eq!(app.job_count().await, 1, "one job for the order");
    assert_eq!(expirations.next().await.data.order_id, order);
    // Its only job done, nothing is left to fire: the one event is the last.
    app.wait_until_done(1).await;
    assert_eq!(app.job_count().await, 1);
    assert_eq!(app.published_expirations().await, 1);
}

#[tokio::test]
async fn an_order_created_arriving_after_the_expiry_fired_does_not_fire_it_again() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;
    let order = OrderId::new();
    let expires_at = in_millis(200);

    app.publish_order_created(order, expires_at).await;
    assert_eq!(expirations.next().await.data.order_id, order);
    app.publish_order_created(order, expires_at).await;
    app.wait_until_handled(2).await;

    // The second event was handled without a job of its own, and the only job is done.
    app.wait_until_done(1).await;
    assert_eq!(app.job_count().await, 1);
    assert_eq!(app.published_expirations().await, 1);
}
