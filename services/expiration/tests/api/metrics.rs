//! The expiration figures on the worker's own `/metrics`: how late each job's event went out
//! (a histogram) and how many jobs wait. Read by the test's own queue label: the recorder is
//! shared by every test of this process.

use std::time::Duration;

use expiration::scheduler;
use ticketing_common::{metrics::catalogue, testing};

use crate::helpers::{TestApp, in_millis, spawn_app};

/// The value of `name` for the app's queue (and `labels`) on the worker's `/metrics`.
async fn scraped(app: &TestApp, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let queue = format!("queue=\"{}\"", app.storage.queue.as_ref());
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) && line.contains(&queue))
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit_once(' ')?.1.parse().ok())
}

#[tokio::test]
async fn a_fired_job_adds_its_lateness_and_waiting_jobs_are_counted() {
    let app = spawn_app().await;
    let mut expirations = app.expirations().await;

    // The worker reports its queue as it starts.
    let waiting = [("state", "scheduled")];
    let reported = testing::eventually(Duration::from_secs(5), async || {
        scraped(&app, catalogue::EXPIRATION_JOBS_PENDING, &waiting).await
    })
    .await;
    assert_eq!(reported, Some(0.0));

    // One job an hour away, one due in a moment.
    app.order_expiring_at(in_millis(3_600_000)).await;
    app.order_expiring_at(in_millis(500)).await;
    expirations
        .next_within(Duration::from_secs(6))
        .await
        .expect("expiration.complete arrives");

    let lateness = format!("{}_count", catalogue::EXPIRATION_LATENESS);
    let fired = testing::eventually(Duration::from_secs(5), async || {
        scraped(&app, &lateness, &[]).await.filter(|n| *n >= 1.0)
    })
    .await;
    assert_eq!(fired, Some(1.0), "one job fired, one sample");
    let on_time = scraped(
        &app,
        &format!("{}_bucket", catalogue::EXPIRATION_LATENESS),
        &[("le", "+Inf")],
    )
    .await;
    assert_eq!(on_time, Some(1.0), "a histogram with buckets");

    // The count runs every 15 s in the worker; the same count, asked now.
    app.wait_until_handled(2).await;
    let mut conn = app.redis.clone();
    scheduler::report_pending(&mut conn, &app.storage)
        .await
        .expect("counted");
    assert_eq!(
        scraped(&app, catalogue::EXPIRATION_JOBS_PENDING, &waiting).await,
        Some(1.0)
    );
    assert_eq!(
        scraped(
            &app,
            catalogue::EXPIRATION_JOBS_PENDING,
            &[("state", "due")]
        )
        .await,
        Some(0.0)
    );
}
