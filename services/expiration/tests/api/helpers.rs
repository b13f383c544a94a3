use std::time::Duration;

use apalis_redis::Config;
use chrono::{DateTime, Utc};
use expiration::{
    configuration::{RedisConfig, Settings},
    scheduler, startup,
};
use redis::aio::ConnectionManager;
use ticketing_common::{
    config::HttpConfig,
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version},
    events::{Envelope, EventBus, ExpirationComplete, OrderCreated, OrderedTicket, Subject},
    telemetry,
    testing::{self, EventProbe},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The test Redis (`TEST_REDIS_URL`, default the local one).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The worker under test plus the test's own view of its bus and its Redis keys.
pub struct TestApp {
    pub settings: Settings,
    pub bus: EventBus,
    pub redis: ConnectionManager,
    pub storage: Config,
    running: Option<Running>,
}

struct Running {
    address: String,
    shutdown: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    telemetry::init_for_tests();
    let nats = testing::nats_config();
    let settings = Settings {
        http: HttpConfig {
            host: "127.0.0.1".into(),
            port: 0,
        },
        redis: RedisConfig::new(redis_url(), nats.events_prefix.as_deref()),
        nats,
    };
    let redis = expiration::connection::connect(&settings.redis)
        .await
        .expect("test Redis");
    let mut app = TestApp {
        bus: EventBus::connect(&settings.nats).await.expect("test bus"),
        storage: scheduler::storage_config(&settings.redis.namespace),
        redis,
        settings,
        running: None,
    };
    app.start().await;
    app
}

impl TestApp {
    /// Builds and runs the service (again, after [`TestApp::stop`]).
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "already running");
        let service = startup::build(self.settings.clone())
            .await
            .expect("expiration builds");
        let shutdown = CancellationToken::new();
        let address = format!("http://127.0.0.1:{}", service.port());
        let handle = tokio::spawn(service.run_until(shutdown.clone()));
        self.running = Some(Running {
            address,
            shutdown,
            handle,
        });
    }

    /// Kills the service as a crash would: no graceful stop, nothing handed back.
    pub async fn crash(&mut self) {
        let running = self.running.take().expect("running");
        running.handle.abort();
        let _ = running.handle.await;
    }

    /// Waits until the worker has taken its job from the queue (it is now running it).
    pub async fn wait_until_job_taken(&self) {
        let (scheduled, active) = (
            self.storage.scheduled_jobs_set(),
            self.storage.active_jobs_list(),
        );
        testing::eventually(Duration::from_secs(5), || {
            let mut conn = self.redis.clone();
            let (scheduled, active) = (&scheduled, &active);
            async move {
                let (waiting, queued): (u64, u64) = redis::pipe()
                    .zcard(scheduled)
                    .llen(active)
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                (waiting == 0 && queued == 0).then_some(())
            }
        })
        .await
        .expect("the worker took the job");
    }

    /// Stops the service as SIGTERM would and waits until it has.
    pub async fn stop(&mut self) {
        let running = self.running.take().expect("running");
        running.shutdown.cancel();
        running
            .handle
            .await
            .expect("the service task completes")
            .expect("the service stops cleanly");
    }

    pub fn url(&self, path: &str) -> String {
        let running = self.running.as_ref().expect("running");
        format!("{}{path}", running.address)
    }

    /// Everything the worker publishes on `expiration.complete`, from the start.
    pub async fn expirations(&self) -> EventProbe<ExpirationComplete> {
        EventProbe::new(&self.bus).await
    }

    /// Publishes `order.created` for a new order expiring at `expires_at`, as orders would.
    pub async fn order_expiring_at(&self, expires_at: DateTime<Utc>) -> OrderId {
        let order = OrderId::new();
        self.publish_order_created(order, expires_at).await;
        order
    }

    /// Publishes an `order.created` (each call with a new event id, as a re-emitted event).
    pub async fn publish_order_created(&self, order: OrderId, expires_at: DateTime<Utc>) {
        let event = Envelope::new(order_created(order, expires_at));
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    /// Waits until the worker acked `count` `order.created` events (its job stored for each).
    pub async fn wait_until_handled(&self, count: u64) {
        testing::wait_until_handled(&self.bus, startup::SERVICE, Subject::OrderCreated, count)
            .await;
    }

    /// Waits until `count` jobs ran to completion (their events acked by JetStream).
    pub async fn wait_until_done(&self, count: u64) {
        testing::eventually(Duration::from_secs(10), async || {
            (self.done_count().await >= count).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("{count} jobs were not done in time"));
    }

    /// How many `expiration.complete` the stream holds: final once every job is done.
    pub async fn published_expirations(&self) -> u64 {
        testing::published_count(&self.bus, Subject::ExpirationComplete).await
    }

    /// How many jobs the namespace holds (whatever their state).
    pub async fn job_count(&self) -> u64 {
        self.hlen(&self.storage.job_data_hash()).await
    }

    /// How many jobs ran to completion.
    pub async fn done_count(&self) -> u64 {
        let mut conn = self.redis.clone();
        redis::cmd("SCARD")
            .arg(self.storage.done_jobs_set())
            .query_async(&mut conn)
            .await
            .expect("SCARD")
    }

    /// How many per-job metadata keys the namespace holds.
    pub async fn meta_key_count(&self) -> usize {
        let mut conn = self.redis.clone();
        let pattern = format!("{}:*", self.storage.job_meta_hash());
        let mut cursor = 0_u64;
        let mut count = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await
                .expect("SCAN");
            count += keys.len();
            if next == 0 {
                return count;
            }
            cursor = next;
        }
    }

    async fn hlen(&self, key: &str) -> u64 {
        let mut conn = self.redis.clone();
        redis::cmd("HLEN")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("HLEN")
    }
}

impl Drop for TestApp {
    /// Stops the service and removes the test's keys, so runs leave nothing in a shared Redis.
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown.cancel();
        }
        let _ = remove_namespace(&self.settings.redis.namespace);
    }
}

/// Removes the namespace's keys from the test Redis (see `scheduler::remove_namespace`).
pub fn remove_namespace(namespace: &str) -> redis::RedisResult<()> {
    scheduler::remove_namespace(&redis_url(), namespace)
}

pub fn order_created(order: OrderId, expires_at: DateTime<Utc>) -> OrderCreated {
    OrderCreated {
        id: order,
        version: Version::INITIAL,
        status: OrderStatus::Created,
        user_id: UserId::new(),
        expires_at,
        ticket: OrderedTicket {
            id: TicketId::new(),
            price: Money::from_cents(1_000).expect("money"),
        },
    }
}

/// `now + millis`.
pub fn in_millis(millis: i64) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::milliseconds(millis)
}

/// `millis` into the second after next: the job's second begins 1–2 s from now, and it is
/// taken from the queue at the start of that second, `millis` before it fires.
pub fn into_second_after_next(millis: i64) -> DateTime<Utc> {
    let second = DateTime::from_timestamp(Utc::now().timestamp() + 2, 0).expect("time");
    second + chrono::Duration::milliseconds(millis)
}

/// How long after `expires_at` the event came (negative: early).
pub fn lateness(expires_at: DateTime<Utc>, arrived: DateTime<Utc>) -> chrono::Duration {
    arrived - expires_at
}
