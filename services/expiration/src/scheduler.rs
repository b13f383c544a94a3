//! The storing side of the jobs: apalis-redis's storage, keyed by order id, due at the order's
//! expiry, plus the two maintenance steps apalis-redis leaves to us.

use std::{sync::LazyLock, time::Duration};

use anyhow::Context;
use apalis::prelude::TaskBuilder;
use apalis_redis::{Config, queries};
use chrono::{DateTime, Utc};
use redis::{Script, aio::ConnectionManager};
use ticketing_common::{events::EventBus, metrics};

use crate::jobs::Expiry;

/// Jobs fetched per round trip: a burst of expiries is taken in few fetches.
const BATCH_SIZE: usize = 100;
/// How often a running worker says it is alive...
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3);
/// ...and how many beats it may miss before another worker hands its in-flight jobs back to
/// the queue (so a crashed worker's jobs run again within ~15 s).
const MISSED_HEARTBEATS: usize = 5;
/// How long the order-id key that refuses a second job is kept: past the stream's retention, so
/// no redelivery of an `order.created` can ever find it gone.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(EventBus::RETENTION.as_secs() + 24 * 60 * 60);
/// Due jobs moved, or finished jobs deleted, per script run: well under the ~8000 values Redis's
/// Lua can unpack, and short enough not to hold Redis up.
const CHUNK: usize = 1_000;

/// The storage's settings. Keys are `<namespace>:expiration:*`.
pub fn storage_config(namespace: &str) -> Config {
    Config::default()
        .queue(format!("{namespace}:expiration"))
        .batch_size(BATCH_SIZE)
        .heartbeat_interval(HEARTBEAT_INTERVAL)
        .missed_heartbeats(MISSED_HEARTBEATS)
        // apalis-redis stores the key with `EXPIRE <ttl>` and its "forever" default is 0, which
        // deletes the key at once: without a TTL, duplicates would not be refused at all.
        .idempotency_ttl(Some(IDEMPOTENCY_TTL))
        // A job takes well under a heartbeat, so leases would only add round trips.
        .lock_tasks(false)
        // Pub/sub notifications feed apalis-board, which we do not run.
        .emit_events(false)
}

/// Whether a call stored a new job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduled {
    New,
    /// A job for this order already exists (or existed): nothing was stored.
    AlreadyScheduled,
}

/// Stores expiry jobs.
#[derive(Clone)]
pub struct Scheduler {
    conn: ConnectionManager,
    storage: Config,
}

impl Scheduler {
    pub fn new(conn: ConnectionManager, storage: Config) -> Self {
        Self { conn, storage }
    }

    /// Stores the job for `expiry` unless one exists for its order. apalis-redis claims the
    /// order-id key and stores the job in one Lua script, so there is no moment where a crash
    /// leaves the key without the job (which would lose the expiry) or the job without the key.
    pub async fn schedule(&self, expiry: &Expiry) -> anyhow::Result<Scheduled> {
        let job = serde_json::to_vec(expiry).context("encoding the expiry job")?;
        let task = TaskBuilder::new(job)
            .idempotency_key(expiry.order_id.to_hex())
            .run_at_timestamp(due_second(expiry.expires_at))
            .build();
        let mut conn = self.conn.clone();
        let (enqueued, scheduled) = queries::push_tasks(&mut conn, &self.storage, &[task])
            .await
            .with_context(|| format!("storing the expiry job of order {}", expiry.order_id))?;
        Ok(if enqueued + scheduled == 0 {
            Scheduled::AlreadyScheduled
        } else {
            Scheduled::New
        })
    }
}

/// The storage keeps due times in whole Unix seconds and promotes a job once its second has
/// begun. Scheduling the second `at` falls in (rounding down) lets the job be taken on time and
/// wait out the fraction itself (`jobs::Firing::fire`): rounding up would fire up to a second
/// late. An instant before 1970 (or already past) means "now": the storage never schedules in
/// the past.
pub fn due_second(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// Counts the jobs waiting in `storage` — not due yet, and due but not taken by a worker — in
/// one round trip, and reports them to the metrics.
pub async fn report_pending(conn: &mut ConnectionManager, storage: &Config) -> anyhow::Result<()> {
    let (scheduled, due): (u64, u64) = redis::pipe()
        .zcard(storage.scheduled_jobs_set())
        .llen(storage.active_jobs_list())
        .query_async(conn)
        .await
        .context("counting the expiry jobs waiting")?;
    metrics::expiration_jobs_pending(storage.queue.as_ref(), scheduled, due);
    Ok(())
}

static PROMOTE_DUE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("promote_due.lua")));

/// Moves every due job to the active list, a chunk at a time, and returns how many.
///
/// apalis-redis's fetch promotes all due jobs in one script call, which Redis refuses once more
/// than ~8000 are due at once: after a long outage the worker would fail on every fetch, for
/// good. Run before each worker start, this leaves the fetch at most a poll's worth to promote.
pub async fn promote_due(conn: &mut ConnectionManager, storage: &Config) -> anyhow::Result<u64> {
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let mut moved = 0_u64;
    loop {
        let chunk: u64 = PROMOTE_DUE
            .key(storage.scheduled_jobs_set())
            .key(storage.active_jobs_list())
            .key(storage.signal_list())
            .arg(now)
            .arg(CHUNK)
            .invoke_async(conn)
            .await
            .context("promoting due expiry jobs")?;
        moved += chunk;
        if chunk < CHUNK as u64 {
            return Ok(moved);
        }
    }
}

static FORGET_DONE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("forget_done.lua")));

/// Deletes every finished job, a chunk at a time, and returns how many. apalis-redis keeps
/// them (data, metadata, the done set) forever; nothing here needs them once their event is in
/// JetStream.
pub async fn forget_done(conn: &mut ConnectionManager, storage: &Config) -> anyhow::Result<u64> {
    let mut deleted = 0_u64;
    loop {
        let chunk: u64 = FORGET_DONE
            .key(storage.done_jobs_set())
            .key(storage.job_data_hash())
            .key(storage.job_meta_hash())
            .arg(CHUNK)
            .invoke_async(conn)
            .await
            .context("deleting finished expiry jobs")?;
        deleted += chunk;
        if chunk < CHUNK as u64 {
            return Ok(deleted);
        }
    }
}

/// apalis-redis's list of every queue, across namespaces.
const QUEUES_LIST: &str = "core:apalis:queues:list";
/// How long [`remove_namespace`] and [`queued_namespaces`] wait for Redis to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Removes everything a namespace holds in Redis: its keys (`<namespace>:*`: jobs, their
/// idempotency keys, workers) and its queue's entry in apalis-redis's list of all queues. For
/// the namespaces tests and test fleets take, one each: left behind they pile up by the
/// thousand in a shared Redis. Synchronous, on a connection of its own to the Redis at `url`,
/// for the `Drop`s that call it.
pub fn remove_namespace(url: &str, namespace: &str) -> redis::RedisResult<()> {
    let conn = &mut connect(url)?;
    let pattern = format!("{namespace}:*");
    let mut cursor = 0_u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(CHUNK)
            .query(conn)?;
        if !keys.is_empty() {
            redis::cmd("UNLINK").arg(&keys).query::<()>(conn)?;
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    redis::cmd("ZREM")
        .arg(QUEUES_LIST)
        .arg(storage_config(namespace).workers_set())
        .query(conn)
}

/// The namespaces whose queue apalis-redis lists: every namespace a job worker ran in.
pub fn queued_namespaces(url: &str) -> redis::RedisResult<Vec<String>> {
    let queues: Vec<String> = redis::cmd("ZRANGE")
        .arg(QUEUES_LIST)
        .arg(0)
        .arg(-1)
        .query(&mut connect(url)?)?;
    let suffix = storage_config("").workers_set();
    Ok(queues
        .iter()
        .filter_map(|queue| queue.strip_suffix(&suffix))
        .map(str::to_owned)
        .collect())
}

fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(CONNECT_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_due_in_the_second_its_expiry_falls_in() {
        let at = |secs, nanos| DateTime::from_timestamp(secs, nanos).expect("time");
        assert_eq!(due_second(at(1_800_000_000, 0)), 1_800_000_000);
        assert_eq!(due_second(at(1_800_000_000, 999_000_000)), 1_800_000_000);
        assert_eq!(due_second(at(-5, 0)), 0);
    }

    #[test]
    fn keys_carry_the_namespace() {
        let config = storage_config("t_abc");
        assert_eq!(config.scheduled_jobs_set(), "t_abc:expiration:scheduled");
        assert!(
            config
                .idempotency_ttl
                .is_some_and(|ttl| ttl > EventBus::RETENTION)
        );
    }
}
