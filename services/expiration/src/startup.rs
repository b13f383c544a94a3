//! Builds the expiration worker: the `order.created` listener that stores jobs, the job worker
//! that fires them, the sweep of finished jobs, and the health endpoints.

use std::time::Duration;

use apalis_redis::Config;
use axum::Router;
use redis::aio::ConnectionManager;
use ticketing_common::{
    app::{Service, Worker},
    events::EventBus,
    server::{self, Probes},
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

pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let redis = connection::connect(&settings.redis).await?;
    let bus = EventBus::connect(&settings.nats).await?;
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
    let router = server::app(
        Router::new(),
        Probes::new(vec![
            Box::new(RedisProbe(redis.clone())),
            Box::new(bus.clone()),
        ]),
    );
    Ok(Service::bind(SERVICE, &settings.http, router)
        .await?
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
