//! JetStream refusing the publish: `expiration.complete` is taken out of the stream's subjects
//! and a stand-in answers every publish on it with an error, as a JetStream that cannot store it
//! would, counting them — so a test waits for the worker's retries instead of for time to pass.
//! The stream and its consumers stay as they are.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use ticketing_common::{events::Subject, testing};
use tokio::task::JoinHandle;

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

/// JetStream out of order for `expiration.complete`: each publish is refused, and counted.
struct Broken {
    refused: Arc<AtomicU64>,
    answering: JoinHandle<()>,
}

impl Broken {
    async fn jetstream(app: &TestApp) -> Self {
        set_expiration_subject(app, false).await;
        let client = app.bus.client().clone();
        let mut publishes = client
            .subscribe(app.bus.names().subject(Subject::ExpirationComplete))
            .await
            .expect("subscribed");
        client.flush().await.expect("subscription in place");
        let refused = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&refused);
        let answering = tokio::spawn(async move {
            while let Some(publish) = publishes.next().await {
                if let Some(reply) = publish.reply {
                    let error = r#"{"error":{"code":503,"err_code":10077,"description":"refused by the test"}}"#;
                    let _ = client.publish(reply, error.into()).await;
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Self { refused, answering }
    }

    /// Waits until the worker has been refused `count` times (so it retried `count - 1` times).
    async fn wait_until_refused(&self, count: u64) {
        testing::eventually(Duration::from_secs(10), async || {
            (self.refused.load(Ordering::SeqCst) >= count).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("the worker was not refused {count} times"));
    }

    /// Stops refusing (publishes meet no one for a moment, and fail), then puts the subject back.
    async fn repair(self, app: &TestApp) {
        self.answering.abort();
        let _ = self.answering.await;
        set_expiration_subject(app, true).await;
    }
}

/// Past the expiry, the job keeps retrying and is not done: refused twice and still not done.
async fn assert_retrying(app: &TestApp, broken: &Broken) {
    broken.wait_until_refused(2).await;
    assert_eq!(
        app.done_count().await,
        0,
        "not done while its event is unacked"
    );
}

#[tokio::test]
async fn a_refused_publish_is_retried_until_jetstream_takes_it() {
    let app = spawn_app().await;
    let order = app.order_expiring_at(in_millis(1_500)).await;
    app.wait_until_handled(1).await;
    let mut expirations = app.expirations().await;
    let broken = Broken::jetstream(&app).await;
    assert_retrying(&app, &broken).await;

    broken.repair(&app).await;

    let event = expirations
        .next_within(Duration::from_secs(8))
        .await
        .expect("expiration.complete once JetStream is back");
    assert_eq!(event.data.order_id, order);
    app.wait_until_done(1).await;
}

#[tokio::test]
async fn a_job_still_retrying_when_the_worker_stops_runs_after_the_restart() {
    let mut app = spawn_app().await;
    let order = app.order_expiring_at(in_millis(1_500)).await;
    app.wait_until_handled(1).await;
    let mut expirations = app.expirations().await;
    let broken = Broken::jetstream(&app).await;
    assert_retrying(&app, &broken).await;

    app.stop().await;
    assert_eq!(app.done_count().await, 0, "handed back, not done");
    broken.repair(&app).await;
    app.start().await;

    let event = expirations
        .next_within(Duration::from_secs(5))
        .await
        .expect("expiration.complete after the restart");
    assert_eq!(event.data.order_id, order);
    app.wait_until_done(1).await;
}
