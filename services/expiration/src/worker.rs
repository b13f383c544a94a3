//! The firing side of the jobs: apalis's worker over the Redis storage, polled often enough to
//! fire within the second a job is due, restarted if Redis fails it, stopped with the service.

use std::time::Duration;

use apalis::prelude::{BackendExt, WorkerBuilder, WorkerError};
use apalis_redis::{Config, RedisStorage};
use redis::aio::ConnectionManager;
use ticketing_common::{
    app,
    events::Publisher,
    retry::{self, Backoff},
};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::{sync::CancellationToken, task::AbortOnDropHandle};

use crate::{
    jobs::{self, Firing},
    scheduler,
};

/// How often an idle worker looks for due jobs. The storage would otherwise only look again on
/// its heartbeat (30 s by default): this bounds how late a job fires.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// First pause (of the fleet's back-off, `ticketing_common::retry`) before restarting a worker
/// that Redis failed, and the longest (before jitter).
const RESTART_DELAY_FIRST: Duration = Duration::from_secs(1);
const RESTART_DELAY_MAX: Duration = Duration::from_secs(30);
/// A worker that ran this long before failing was healthy: the next restart is quick again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// How often the jobs waiting are counted for the metrics: as often as Prometheus scrapes.
const PENDING_REPORT_EVERY: Duration = Duration::from_secs(15);

/// Runs the expiry jobs until the service stops.
pub struct JobWorker {
    pub conn: ConnectionManager,
    pub storage: Config,
    pub publisher: Publisher,
    /// Unique to this process. Each run registers as `<name>-<run>`: apalis-redis refuses a
    /// name that was alive within the last heartbeats, which a restart would otherwise reuse.
    pub name: String,
}

impl JobWorker {
    pub fn into_worker(self) -> app::Worker {
        app::Worker::new("expiry jobs", move |stop| self.run(stop))
    }

    async fn run(mut self, stop: CancellationToken) -> anyhow::Result<()> {
        let _reporting = AbortOnDropHandle::new(tokio::spawn(report_pending(
            self.conn.clone(),
            self.storage.clone(),
        )));
        let mut backoff = Backoff::new(RESTART_DELAY_FIRST, RESTART_DELAY_MAX);
        let mut run = 0_u32;
        loop {
            let name = format!("{}-{run}", self.name);
            let started = Instant::now();
            let result = match scheduler::promote_due(&mut self.conn, &self.storage).await {
                Ok(moved) => {
                    if moved > 0 {
                        tracing::info!(moved, "jobs that fell due while no worker ran are queued");
                    }
                    self.run_once(&name, stop.clone())
                        .await
                        .map_err(anyhow::Error::new)
                }
                Err(err) => Err(err),
            };
            match result {
                Ok(()) => {
                    tracing::info!(worker = %name, "job worker stopped");
                    return Ok(());
                }
                Err(err) if stop.is_cancelled() => {
                    tracing::warn!(worker = %name, error = %format!("{err:#}"), "job worker failed while stopping");
                    return Ok(());
                }
                Err(err) => {
                    if started.elapsed() >= HEALTHY_RUN {
                        backoff.reset();
                    }
                    let delay = backoff.next_delay();
                    // Jobs it held come back to the queue once its heartbeats are missed.
                    tracing::warn!(
                        worker = %name, error = %format!("{err:#}"), retry_in = ?delay,
                        "job worker failed; restarting it"
                    );
                    if !retry::pause(delay, &stop).await {
                        return Ok(());
                    }
                    run += 1;
                }
            }
        }
    }

    /// One apalis worker, until `stop` (then it takes no new job, lets the ones in flight finish
    /// and hands back what it fetched but had not started) or until it fails.
    async fn run_once(&self, name: &str, stop: CancellationToken) -> Result<(), WorkerError> {
        let storage = RedisStorage::<serde_json::Value>::new(self.conn.clone())
            .with_config(self.storage.clone())
            .poll_with_interval(POLL_INTERVAL);
        let worker = WorkerBuilder::new(name)
            .backend(storage)
            .data(Firing::new(
                self.publisher.clone(),
                stop.clone(),
                self.storage.queue.as_ref().to_owned(),
            ))
            .build(jobs::fire);
        tracing::info!(worker = %name, queue = %self.storage.queue.as_ref(), poll = ?POLL_INTERVAL, "job worker started");
        worker
            .run_until(async move {
                stop.cancelled().await;
                Ok::<(), WorkerError>(())
            })
            .await
    }
}

/// Reports the jobs waiting every [`PENDING_REPORT_EVERY`], the first time at once, until
/// dropped. Every replica reports the same queue (a dashboard takes the largest).
async fn report_pending(mut conn: ConnectionManager, storage: Config) {
    let mut ticks = tokio::time::interval(PENDING_REPORT_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = scheduler::report_pending(&mut conn, &storage).await {
            // Redis away: the worker says so in the log; the figures keep their last value.
            tracing::debug!(error = %format!("{err:#}"), "counting the jobs waiting failed");
        }
    }
}
