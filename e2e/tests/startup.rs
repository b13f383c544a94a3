//! Start-up before the dependencies exist, and their loss later (issue 14, item 1): a service
//! answers `/healthz` at once, reports not-ready while it waits for MongoDB, NATS and Redis
//! (trying again and again, a log line per attempt), becomes ready within seconds of them
//! answering — the same process all along — and goes not-ready and back, without exiting, when
//! one of them is gone for a while; its workers (outbox relay, listeners, expiry jobs) carry on
//! once it is back.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use reqwest::StatusCode;
use serde_json::{Value, json};
use ticketing_common::{
    config::{JwtKey, NatsConfig, SessionConfig},
    domain::UserId,
    events::{Envelope, EventBus, OrderCreated, Subject},
    session::Sessions,
};
use ticketing_e2e::{
    eventually,
    standalone::{FERRETDB, LoneService, NatsServer, RedisServer, TcpProxy, scratch_dir},
};
use tokio::time::Instant;

/// How long after the services their dependencies start (issue 14 says 20 s; a shorter value
/// in `STARTUP_TEST_LATE_SECONDS` is for trying the test out quickly).
const DEPENDENCIES_LATE_BY: Duration = Duration::from_secs(20);
/// How soon after its dependencies answer a service must be ready (issue 14).
const READY_WITHIN: Duration = Duration::from_secs(5);
/// How soon a lost dependency must show on `/readyz`, and its return too.
const NOTICED_WITHIN: Duration = Duration::from_secs(10);
/// How long a dependency stays away.
const OUTAGE: Duration = Duration::from_secs(3);

const JWT_KEY: &str = "start-up-tests-key-that-is-long-enough";

struct Probe {
    http: reqwest::Client,
}

impl Probe {
    async fn get(&self, service: &LoneService, path: &str) -> Option<(StatusCode, Value)> {
        let response = self
            .http
            .get(service.url(path))
            .timeout(Duration::from_secs(4))
            .send()
            .await
            .ok()?;
        let status = response.status();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Waits until `path` answers `status`; how long that took.
    async fn until(
        &self,
        service: &LoneService,
        path: &str,
        status: StatusCode,
        within: Duration,
    ) -> anyhow::Result<Duration> {
        let since = Instant::now();
        let answered = eventually(within, async || {
            let (got, _) = self.get(service, path).await?;
            (got == status).then_some(())
        })
        .await;
        match answered {
            Some(()) => Ok(since.elapsed()),
            None => bail!(
                "{} {path} did not answer {status} within {within:?}: last {:?}\n{}",
                service.name(),
                self.get(service, path).await,
                service.log_tail()
            ),
        }
    }
}

/// A session cookie for a new user, signed as auth would.
fn session_cookie() -> anyhow::Result<String> {
    let sessions = Sessions::new(&SessionConfig {
        jwt_key: JwtKey::parse(JWT_KEY.to_owned())?,
        ttl: Duration::from_secs(900),
        secure_cookies: false,
    });
    let token = sessions.sign(&sessions.claims_for(UserId::new(), "seller@startup.test"))?;
    Ok(format!("session={token}"))
}

/// Whether the stream holds an event on `subject`.
async fn published(bus: &EventBus, subject: Subject) -> bool {
    let names = bus.names();
    match bus.jetstream().get_stream(names.stream()).await {
        Ok(stream) => stream
            .get_last_raw_message_by_subject(&names.subject(subject))
            .await
            .is_ok(),
        Err(_) => false,
    }
}

/// Still the process it was started as, and still running.
fn same_process(service: &mut LoneService, pid: u32) -> anyhow::Result<()> {
    ensure!(
        !service.has_exited() && service.pid() == pid,
        "{} exited\n{}",
        service.name(),
        service.log_tail()
    );
    Ok(())
}

fn late_by() -> Duration {
    std::env::var("STARTUP_TEST_LATE_SECONDS")
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map_or(DEPENDENCIES_LATE_BY, Duration::from_secs)
}

#[tokio::test(flavor = "multi_thread")]
async fn services_wait_for_their_dependencies_and_outlive_their_loss() -> anyhow::Result<()> {
    let dir = scratch_dir("startup")?;
    let mut nats = NatsServer::new(&dir)?;
    let mut redis = RedisServer::new(&dir)?;
    let mut mongo = TcpProxy::new(FERRETDB)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let database = format!("e2e_startup_{}", &id[..12]);
    let prefix = format!("startup_{}", &id[..12]);

    let mut tickets = LoneService::spawn(
        "tickets",
        &dir,
        &[
            (
                "MONGO_URI",
                format!("mongodb://127.0.0.1:{}/{database}", mongo.port()),
            ),
            ("NATS_URL", nats.url()),
            ("EVENTS_PREFIX", prefix.clone()),
            ("JWT_KEY", JWT_KEY.to_owned()),
            ("SECURE_COOKIES", "false".to_owned()),
        ],
    )?;
    let mut expiration = LoneService::spawn(
        "expiration",
        &dir,
        &[
            ("NATS_URL", nats.url()),
            ("REDIS_URL", redis.url()),
            ("EVENTS_PREFIX", prefix.clone()),
        ],
    )?;
    let launched = Instant::now();
    let pids = (tickets.pid(), expiration.pid());
    let probe = Probe {
        http: reqwest::Client::new(),
    };

    // Alive at once, not ready, and every request told so (never a 500).
    for service in [&tickets, &expiration] {
        let alive = probe
            .until(service, "/healthz", StatusCode::OK, READY_WITHIN)
            .await?;
        eprintln!(
            "{}: /healthz answered {alive:?} after the start",
            service.name()
        );
        let (status, body) = probe.get(service, "/readyz").await.context("/readyz")?;
        ensure!(status == StatusCode::SERVICE_UNAVAILABLE, "{status} {body}");
        ensure!(
            body["errors"][0]["message"] == "Service is starting",
            "{body}"
        );
    }
    let (status, body) = probe
        .get(&tickets, "/api/tickets")
        .await
        .context("/api/tickets")?;
    ensure!(status == StatusCode::SERVICE_UNAVAILABLE, "{status} {body}");
    ensure!(
        body == json!({ "errors": [{ "message": "Service is starting" }] }),
        "{body}"
    );

    // Still waiting, the same processes, when the dependencies finally come.
    tokio::time::sleep_until(launched + late_by()).await;
    same_process(&mut tickets, pids.0)?;
    same_process(&mut expiration, pids.1)?;
    for service in [&tickets, &expiration] {
        let (status, body) = probe.get(service, "/readyz").await.context("/readyz")?;
        ensure!(status == StatusCode::SERVICE_UNAVAILABLE, "{status} {body}");
    }
    nats.start().await?;
    redis.start().await?;
    mongo.start().await?;
    let arrived = Instant::now();
    for service in [&tickets, &expiration] {
        probe
            .until(
                service,
                "/readyz",
                StatusCode::OK,
                READY_WITHIN.saturating_sub(arrived.elapsed()),
            )
            .await?;
        eprintln!(
            "{}: ready {:?} after its dependencies started",
            service.name(),
            arrived.elapsed()
        );
    }
    same_process(&mut tickets, pids.0)?;
    same_process(&mut expiration, pids.1)?;
    let (status, body) = probe.get(&tickets, "/api/tickets").await.context("list")?;
    ensure!(status == StatusCode::OK, "{status} {body}");
    // One line per attempt, each naming what it waits for.
    for (service, waited_for) in [
        (&tickets, "MongoDB at"),
        (&tickets, "NATS at"),
        (&expiration, "Redis at"),
        (&expiration, "NATS at"),
    ] {
        let attempts = service
            .log()
            .lines()
            .filter(|line| line.contains(&format!("waiting for {waited_for}")))
            .count();
        eprintln!(
            "{}: {attempts} attempts logged for {waited_for}",
            service.name()
        );
        ensure!(
            attempts >= 2,
            "{} logged {attempts} attempts for {waited_for}\n{}",
            service.name(),
            service.log_tail()
        );
    }

    // NATS gone for a while: not ready, not exited; ready again once it is back.
    nats.stop();
    for service in [&tickets, &expiration] {
        let noticed = probe
            .until(
                service,
                "/readyz",
                StatusCode::SERVICE_UNAVAILABLE,
                NOTICED_WITHIN,
            )
            .await?;
        eprintln!("{}: NATS loss noticed within {noticed:?}", service.name());
    }
    // Meanwhile a ticket goes on sale: stored at once, its ticket.created waits in the outbox.
    let cookie = session_cookie()?;
    let created = probe
        .http
        .post(tickets.url("/api/tickets"))
        .header("cookie", &cookie)
        .json(&json!({ "title": "Sold while NATS was away", "price": 5 }))
        .send()
        .await?;
    ensure!(created.status() == StatusCode::CREATED, "{created:?}");
    let ticket: Value = created.json().await?;
    tokio::time::sleep(OUTAGE).await;
    same_process(&mut tickets, pids.0)?;
    same_process(&mut expiration, pids.1)?;
    nats.start().await?;
    for service in [&tickets, &expiration] {
        let back = probe
            .until(service, "/readyz", StatusCode::OK, NOTICED_WITHIN)
            .await?;
        eprintln!(
            "{}: ready again {back:?} after NATS returned",
            service.name()
        );
    }

    // MongoDB (tickets) and Redis (expiration) gone for a while: the same.
    mongo.stop();
    redis.stop();
    for service in [&tickets, &expiration] {
        let noticed = probe
            .until(
                service,
                "/readyz",
                StatusCode::SERVICE_UNAVAILABLE,
                NOTICED_WITHIN,
            )
            .await?;
        eprintln!(
            "{}: database loss noticed within {noticed:?}",
            service.name()
        );
    }
    tokio::time::sleep(OUTAGE).await;
    same_process(&mut tickets, pids.0)?;
    same_process(&mut expiration, pids.1)?;
    mongo.start().await?;
    redis.start().await?;
    for service in [&tickets, &expiration] {
        let back = probe
            .until(service, "/readyz", StatusCode::OK, NOTICED_WITHIN)
            .await?;
        eprintln!(
            "{}: ready again {back:?} after its database returned",
            service.name()
        );
    }
    let (status, body) = probe.get(&tickets, "/api/tickets").await.context("list")?;
    ensure!(status == StatusCode::OK, "{status} {body}");

    // The workers came back too: the outbox relay published what waited, and an order for the
    // ticket (already expired) is handled by tickets' listener, whose ticket.updated the relay
    // publishes, and by expiration's, whose job fires expiration.complete.
    let bus = EventBus::connect(&NatsConfig {
        url: nats.url(),
        client_name: "startup-test".into(),
        events_prefix: Some(prefix.clone()),
    })
    .await?;
    let order: OrderCreated = serde_json::from_value(json!({
        "id": "64b0f7a2c1d3e4f5a6b7c8d9",
        "version": 0,
        "status": "created",
        "userId": "64b0f7a2c1d3e4f5a6b7c8da",
        "expiresAt": "2020-01-01T00:00:00Z",
        "ticket": { "id": ticket["id"], "price": 5 },
    }))?;
    bus.publisher().publish(&Envelope::new(order)).await?;
    let ticket_url = format!("/api/tickets/{}", ticket["id"].as_str().unwrap_or_default());
    let reserved = eventually(NOTICED_WITHIN, async || {
        let (_, shown) = probe.get(&tickets, &ticket_url).await?;
        (shown["orderId"] == "64b0f7a2c1d3e4f5a6b7c8d9").then_some(())
    })
    .await;
    ensure!(
        reserved.is_some(),
        "the ticket was not reserved\n{}",
        tickets.log_tail()
    );
    for subject in [
        Subject::TicketCreated,
        Subject::TicketUpdated,
        Subject::ExpirationComplete,
    ] {
        let out = eventually(NOTICED_WITHIN, async || {
            published(&bus, subject).await.then_some(())
        })
        .await;
        ensure!(
            out.is_some(),
            "no {subject} was published\n{}\n{}",
            tickets.log_tail(),
            expiration.log_tail()
        );
    }
    bus.close().await;
    same_process(&mut tickets, pids.0)?;
    same_process(&mut expiration, pids.1)?;

    // The services stop with the test (their processes are killed on drop); the test's
    // database goes too.
    drop((tickets, expiration));
    if let Ok(client) = mongodb::Client::with_uri_str(format!("mongodb://{FERRETDB}")).await {
        let _ = client.database(&database).drop().await;
    }
    Ok(())
}
