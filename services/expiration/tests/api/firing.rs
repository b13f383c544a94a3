use std::time::Duration;

use chrono::Utc;

use crate::helpers::{in_millis, lateness, spawn_app};

#[tokio::test]
async fn a_job_fires_at_its_expiry_and_not_before() {
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
    // How late is the benchmark's to measure: a loaded machine makes any bound here flaky.
    assert!(late >= chrono::Duration::zero(), "fired {late} early");
    println!(
        "single job: expiration.complete arrived {} ms after expiresAt",
        late.num_milliseconds()
    );
}

#[tokio::test]
async fn an_expiry_already_past_fires_at_once() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;

    let order = app.order_expiring_at(in_millis(-10_000)).await;

    // At once: long before anything scheduled ahead would fire.
    let event = expirations
        .next_within(Duration::from_secs(5))
        .await
        .expect("expiration.complete arrives");
    assert_eq!(event.data.order_id, order);
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
