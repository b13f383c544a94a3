//! The Redis connection the jobs live on, and its readiness probe.

use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ticketing_common::server::ReadinessProbe;

use crate::configuration::RedisConfig;

/// A multiplexed connection that reconnects by itself after Redis comes back. Connecting at
/// start-up fails fast, so a wrong URL stops the pod with a message instead of a silent worker.
pub async fn connect(config: &RedisConfig) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(config.url.as_str())
        .with_context(|| format!("REDIS_URL {} is not a Redis URL", config.redacted_url()))?;
    let options = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        // Without it a Redis that hangs would hang the listener and the job worker with it.
        .set_response_timeout(Some(Duration::from_secs(5)));
    client
        .get_connection_manager_with_config(options)
        .await
        .with_context(|| format!("connecting to Redis at {}", config.redacted_url()))
}

/// `/readyz` asks Redis for a `PONG`.
pub struct RedisProbe(pub ConnectionManager);

impl ReadinessProbe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let mut conn = self.0.clone();
            redis::cmd("PING").query_async::<String>(&mut conn).await?;
            Ok(())
        })
    }
}
