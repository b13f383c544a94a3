//! JetStream refusing the publish: `expiration.complete` is taken out of the stream's subjects,
//! so its publishes fail (no stream takes them) until it is put back. The stream and its
//! consumers stay as they are.

use std::time::Duration;

use ticketing_common::{events::Subject, testing};

use crate::helpers::{TestApp, in_millis, spawn_app};

async fn set_expiration_subject(app: &TestApp, present: bool) {
    let names = app.bus.names();
    let subject = names.subject(Subject::ExpirationComplete);
    let mut stream = app
        .bus
        .jetstream()
        .get_stream(names.stream())
        .await
        .expect("the test stream");
    let mut config = stream.info().await.expect("stream info").config.clone();
    config.subjects.retain(|s| *s != subject);
    if present {
        config.subjects.push(subject);
    }
    app.bus
        .jetstream()
        .update_stream(config)
        .await
        .expect("stream updated");
}

async fn break_jetstream(app: &TestApp) {
    set_expiration_subject(app, false).await;
}

async fn repair_jetstream(app: &TestApp) {
    set_expiration_subject(app, true).await;
}

/// Past the expiry, the job keeps retrying and is not done.
async fn assert_retrying(app: &TestApp) {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        app.done_count().await,
        0,
        "not done while its event is unacked"
    );
}

async fn wait_until_done(app: &TestApp) {
    testing::eventually(Duration::from_secs(5), || async {
        (app.done_count().await == 1).then_some(())
    })
    .await
    .expect("the job is done once its event is acked");
}

#[tokio::test]
async fn a_refused_publish_is_retried_until_jetstream_takes_it() {
    let app = spawn_app().await;
    let order = app.order_expiring_at(in_millis(500)).await;
    app.wait_until_handled(1).await;
    let mut expirations = app.expirations().await;
    break_jetstream(&app).await;
    assert_retrying(&app).await;

    repair_jetstream(&app).await;

    let event = expirations
        .next_within(Duration::from_secs(8))
        .await
        .expect("expiration.complete once JetStream is back");
    assert_eq!(event.data.order_id, order);
    wait_until_done(&app).await;
}

#[tokio::test]
async fn a_job_still_retrying_when_the_worker_stops_runs_after_the_restart() {
    let mut app = spawn_app().await;
    let order = app.order_expiring_at(in_millis(500)).await;
    app.wait_until_handled(1).await;
    let mut expirations = app.expirations().await;
    break_jetstream(&app).await;
    assert_retrying(&app).await;

    app.stop().await;
    repair_jetstream(&app).await;
    app.start().await;

    let event = expirations
        .next_within(Duration::from_secs(5))
        .await
        .expect("expiration.complete after the restart");
    assert_eq!(event.data.order_id, order);
    wait_until_done(&app).await;
}
