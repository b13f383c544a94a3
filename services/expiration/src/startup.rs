//! Builds the expiration worker: the `order.created` listener that stores jobs, the job worker
//! that fires them, the sweep of finished jobs, and the health endpoints.

use std::time::Duration;

use apalis_redis::Config;
use axum::Router;
use redis::aio::ConnectionManager;
use ticketing_common::{
    app::{Service, Starting, Worker},
    config::StreamConfig,
    server::Probes,
};

use crate::{
    configuration::Settings,
    connection::{self, RedisProbe},
    events::OrderCreatedListener,
    scheduler::{self, Scheduler},
    worker::JobWorker,
};

pub const SERVICE: &str = "expiration";

/// How often finished jobs are deleted from Redis.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Serves `/healthz` at once, waits for Redis and NATS (retrying for as long as it takes), then
/// returns the service with its listener and job worker.
pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let stream = StreamConfig::from_env()?;
    let redis = connection::connect(&settings.redis).await?;
    let starting = Starting::bind(SERVICE, &settings.http).await?;
    let redis_at = format!("Redis at {}", settings.redis.redacted_url());
    let redis_answers = starting.wait_for(&redis_at, || connection::ping(&redis));
    let (bus, ()) = tokio::join!(starting.event_bus(&settings.nats, &stream), redis_answers);
    let bus = bus?;
    let storage = scheduler::storage_config(&settings.redis.namespace);
    let jobs = JobWorker {
        conn: redis.clone(),
        storage: storage.clone(),
        publisher: bus.publisher(),
        name: format!(
            "{}-{}",
            settings.nats.client_name,
            uuid::Uuid::new_v4().simple()
        ),
    };
    let probes = Probes::new(vec![
        Box::new(RedisProbe(redis.clone())),
        Box::new(bus.clone()),
    ]);
    Ok(starting
        .ready(Router::new(), probes)
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            OrderCreatedListener {
                scheduler: Scheduler::new(redis.clone(), storage.clone()),
            },
        ))
        .with_worker(jobs.into_worker())
        .with_worker(finished_job_sweep(redis, storage))
        .with_bus(bus))
}

fn finished_job_sweep(mut redis: ConnectionManager, storage: Config) -> Worker {
    Worker::new("finished job sweep", move |stop| async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(SWEEP_INTERVAL) => {}
                () = stop.cancelled() => return Ok(()),
            }
            match scheduler::forget_done(&mut redis, &storage).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "finished expiry jobs deleted"),
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "finished job sweep failed");
                }
            }
        }
    })
}
