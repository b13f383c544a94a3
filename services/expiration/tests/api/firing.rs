use std::time::Duration;

use chrono::Utc;

use crate::helpers::{in_millis, lateness, spawn_app};

#[tokio::test]
async fn a_job_fires_within_a_second_of_its_expiry_and_not_before() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;
    let expires_at = in_millis(2_500);

    let order = app.order_expiring_at(expires_at).await;

    let event = expirations
        .next_within(Duration::from_secs(6))
        .await
        .expect("expiration.complete arrives");
    let late = lateness(expires_at, Utc::now());
    assert_eq!(event.data.order_id, order);
    assert_eq!(event.id.as_str(), format!("expiration:{order}"));
    assert!(late >= chrono::Duration::zero(), "fired {late} early");
    assert!(late < chrono::Duration::seconds(1), "fired {late} late");
    println!(
        "single job: expiration.complete arrived {} ms after expiresAt",
        late.num_milliseconds()
    );
}

#[tokio::test]
async fn an_expiry_already_past_fires_at_once() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;
    let sent = Utc::now();

    let order = app.order_expiring_at(in_millis(-10_000)).await;

    let event = expirations
        .next_within(Duration::from_secs(3))
        .await
        .expect("expiration.complete arrives");
    let took = Utc::now() - sent;
    assert_eq!(event.data.order_id, order);
    assert!(took < chrono::Duration::seconds(1), "took {took}");
}

#[tokio::test]
async fn orders_expire_in_the_order_of_their_expiry_not_of_their_events() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;

    let later = app.order_expiring_at(in_millis(2_500)).await;
    let sooner = app.order_expiring_at(in_millis(1_500)).await;

    assert_eq!(expirations.next().await.data.order_id, sooner);
    assert_eq!(expirations.next().await.data.order_id, later);
}
