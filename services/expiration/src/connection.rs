//! The Redis connection the jobs live on, the ping that tells whether Redis answers (start-up
//! waits on it, `/readyz` asks it), and its readiness probe.

use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ticketing_common::server::ReadinessProbe;

use crate::configuration::RedisConfig;

/// A multiplexed connection that connects on first use and reconnects by itself whenever a
/// command finds Redis gone, so it never waits for Redis (nor fails when it is down): [`ping`]
/// tells whether it answers. Fails only for a URL that is not Redis's (checked with the
/// configuration already).
pub async fn connect(config: &RedisConfig) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(config.url.as_str())
        .with_context(|| format!("REDIS_URL {} is not a Redis URL", config.redacted_url()))?;
    let options = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        // Without it a Redis that hangs would hang the listener and the job worker with it.
        .set_response_timeout(Some(Duration::from_secs(5)))
        // A command that finds Redis gone tries to reconnect a few times, at most a second
        // apart, then fails; the next command tries again. So a command fails within seconds
        // while Redis is away, and one soon after it is back succeeds.
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_secs(1));
    ConnectionManager::new_lazy_with_config(client, options)
        .with_context(|| format!("connecting to Redis at {}", config.redacted_url()))
}

/// One `PING`: fails while Redis is down, succeeds as soon as it answers again.
pub async fn ping(conn: &ConnectionManager) -> anyhow::Result<()> {
    let mut conn = conn.clone();
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .context("Redis did not answer a PING")?;
    Ok(())
}

/// `/readyz` asks Redis for a `PONG`.
pub struct RedisProbe(pub ConnectionManager);

impl ReadinessProbe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(ping(&self.0))
    }
}
