//! `prune-test-data`: forgets what earlier test runs left on the local backing services. Every
//! service test gets a fresh MongoDB database `test_<32 hex>` and a fresh JetStream stream
//! `t_<32 hex>_EVENTS` (`testing::mongo_config`, `testing::nats_config`), and nothing drops them:
//! after a few thousand, nats-server takes longer to start than `backing-services.sh` waits and
//! FerretDB slows down. `scripts/test.sh` runs this before `cargo test`; it can be run by hand.
//!
//!   prune-test-data [--older-than-minutes N] [--all-databases]
//!
//! - Streams are deleted if JetStream created them more than N minutes ago (default 10; 0 = all),
//!   so a test run going on elsewhere keeps the streams it is using.
//! - Databases carry no creation time, so the streams are their clock: a run that tests with
//!   databases also creates streams (every service but auth publishes or listens). If a test
//!   stream younger than N minutes exists, a run may be going on and every `test_*` database is
//!   kept; otherwise all are dropped. The price: runs less than N minutes apart leave their
//!   databases to a later prune, which drops them all at once. `--all-databases` drops them
//!   (and the Redis namespaces below) regardless (a test run going on at that moment may then
//!   fail).
//! - End-to-end fleets drop their own `e2e_<12 hex>_*` databases as they stop; a run that was
//!   killed leaves them, and they go with the `test_*` ones, under the same rule. Those fleets
//!   run NATS servers of their own, so their streams go with them, and an end-to-end run alone
//!   leaves no stream to say it is going on: prune while only one runs and its fleets fail.
//! - Expiration jobs in Redis: test runs and fleets remove their namespace (`t_<32 hex>`,
//!   `e2e_<12 hex>`) as they end; the namespaces of killed ones go under the same rule. They
//!   are found in apalis-redis's list of queues (every namespace a job worker ran in).
//!
//! Only names of exactly those shapes are touched: not the fleet's `EVENTS` stream, not the local
//! fleet's `auth`, `tickets`… databases nor its `ticketing` namespace. `TEST_MONGO_URI` (default
//! mongodb://127.0.0.1:27017), `TEST_NATS_URL`, else `NATS_URL` (default nats://127.0.0.1:4222),
//! and `TEST_REDIS_URL` (default redis://127.0.0.1:6379) name the servers, as for the tests.
//! Drops run 8 at a time. A drop that fails is reported and counted; the exit code is 1 only if
//! a server could not be reached (2 for a bad argument).

use std::{
    process::ExitCode,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use expiration::scheduler;
use futures::{StreamExt, TryStreamExt, stream};
use mongodb::{Client, options::ClientOptions};
use ticketing_common::{
    config::{self, NatsConfig},
    events::EventBus,
    poll,
};
use ticketing_e2e::{is_fleet_database, is_fleet_events_prefix};

const USAGE: &str = "usage: prune-test-data [--older-than-minutes N] [--all-databases]";
/// Drops in flight at once: enough to hide the round trips, few enough not to swamp a 2-core
/// machine's FerretDB (each drop is a PostgreSQL schema dropped).
const CONCURRENCY: usize = 8;
/// How long to wait for a server to answer before giving up on it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Failures printed one by one; the rest are only counted.
const ERRORS_SHOWN: usize = 5;

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("prune-test-data: {err:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let streams = prune_streams(options.grace).await;
    let keep = match &streams {
        _ if options.all_databases => Keep::Nothing,
        Ok(pruned) if pruned.kept == 0 => Keep::Nothing,
        Ok(_) => Keep::All("a test stream younger than the grace period exists"),
        Err(_) => Keep::All("NATS could not tell whether a test run is going on"),
    };
    let databases = prune_databases(keep).await;
    let redis = match tokio::task::spawn_blocking(move || prune_redis(keep)).await {
        Ok(pruned) => pruned,
        Err(err) => Err(anyhow::anyhow!("pruning Redis stopped: {err}")),
    };

    let mut unreachable = false;
    let mut report = |what: &str, outcome: &anyhow::Result<Pruned>| match outcome {
        Ok(pruned) => pruned.describe(what),
        Err(err) => {
            eprintln!("prune-test-data: {err:#}");
            unreachable = true;
            format!("{what}: not reached")
        }
    };
    let summary = format!(
        "{}; {}; {}",
        report("test databases", &databases),
        report("test streams", &streams),
        report("Redis namespaces", &redis)
    );
    println!(
        "prune-test-data: {summary} (grace {} min, {:.1} s)",
        options.grace.as_secs() / 60,
        started.elapsed().as_secs_f64()
    );
    if unreachable {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

struct Options {
    grace: Duration,
    all_databases: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut options = Options {
            grace: Duration::from_secs(10 * 60),
            all_databases: false,
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--older-than-minutes" => {
                    let raw = args.next().context("--older-than-minutes needs a number")?;
                    let minutes: u64 = raw
                        .parse()
                        .with_context(|| format!("--older-than-minutes {raw:?}: not a number"))?;
                    options.grace = Duration::from_secs(minutes.saturating_mul(60));
                }
                "--all-databases" => options.all_databases = true,
                other => bail!("unknown argument {other:?}"),
            }
        }
        Ok(options)
    }
}

/// What one pass did: removed, failed to remove, and kept on purpose.
#[derive(Default)]
struct Pruned {
    removed: usize,
    failed: usize,
    kept: usize,
    kept_because: Option<&'static str>,
}

impl Pruned {
    /// Nothing removed: all `count` kept, for `reason`.
    fn kept_all(count: usize, reason: &'static str) -> Self {
        Self {
            kept: count,
            kept_because: Some(reason),
            ..Self::default()
        }
    }

    fn describe(&self, what: &str) -> String {
        let mut line = format!("{} {what} removed", self.removed);
        if self.failed > 0 {
            line += &format!(", {} failed", self.failed);
        }
        if self.kept > 0 {
            line += &format!(", {} kept", self.kept);
            if let Some(reason) = self.kept_because {
                line += &format!(" ({reason})");
            }
        }
        line
    }

    /// Counts the drops' results, printing the first few failures.
    fn count<E: std::fmt::Display>(&mut self, what: &str, results: Vec<(String, Result<(), E>)>) {
        for (name, result) in results {
            match result {
                Ok(()) => self.removed += 1,
                Err(err) => {
                    if self.failed < ERRORS_SHOWN {
                        eprintln!("prune-test-data: could not remove {what} {name}: {err}");
                    }
                    self.failed += 1;
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Keep {
    Nothing,
    All(&'static str),
}

/// Deletes the `t_<32 hex>_EVENTS` streams created more than `grace` ago; `kept` counts the
/// younger ones.
async fn prune_streams(grace: Duration) -> anyhow::Result<Pruned> {
    let url = config::optional("TEST_NATS_URL")
        .or_else(|| config::optional("NATS_URL"))
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let bus = EventBus::open(&NatsConfig {
        url: url.clone(),
        client_name: "prune-test-data".into(),
        events_prefix: None,
    })
    .await?;
    let reached = poll::until(CONNECT_TIMEOUT, Duration::from_millis(50), async || {
        bus.check_connected().ok()
    })
    .await;
    if reached.is_none() {
        bail!(
            "could not reach NATS at {} within {CONNECT_TIMEOUT:?}",
            config::redact(&url)
        );
    }
    let jetstream = bus.jetstream();
    // The whole list first: deleting while paging through it would shift the pages.
    let streams: Vec<_> = jetstream
        .streams()
        .try_collect()
        .await
        .context("listing the JetStream streams")?;
    let cutoff = unix_seconds(SystemTime::now().checked_sub(grace).unwrap_or(UNIX_EPOCH));
    let mut pruned = Pruned::default();
    let mut old = Vec::new();
    for info in streams {
        if !is_test_stream(&info.config.name) {
            continue;
        }
        if info.created.unix_timestamp() <= cutoff {
            old.push(info.config.name);
        } else {
            pruned.kept += 1;
        }
    }
    pruned.kept_because = Some("younger than the grace period");
    let results = stream::iter(old)
        .map(|name| async move {
            let result = jetstream.delete_stream(&name).await.map(|_| ());
            (name, result)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    pruned.count("stream", results);
    bus.close().await;
    Ok(pruned)
}

/// Drops every `test_<32 hex>` and `e2e_<12 hex>_*` database, unless `keep` says why not.
async fn prune_databases(keep: Keep) -> anyhow::Result<Pruned> {
    let uri =
        config::optional("TEST_MONGO_URI").unwrap_or_else(|| "mongodb://127.0.0.1:27017".into());
    let unreachable = || format!("could not reach MongoDB at {}", config::redact(&uri));
    let mut options = ClientOptions::parse(&uri).await.with_context(unreachable)?;
    options.app_name = Some("prune-test-data".into());
    options
        .server_selection_timeout
        .get_or_insert(CONNECT_TIMEOUT);
    let client = Client::with_options(options).with_context(unreachable)?;
    let names: Vec<String> = client
        .list_database_names()
        .await
        .with_context(unreachable)?
        .into_iter()
        .filter(|name| is_test_database(name) || is_fleet_database(name))
        .collect();
    if let Keep::All(reason) = keep {
        return Ok(Pruned::kept_all(names.len(), reason));
    }
    let mut pruned = Pruned::default();
    let client = &client;
    let results = stream::iter(names)
        .map(|name| async move {
            let result = client.database(&name).drop().await;
            (name, result)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    pruned.count("database", results);
    Ok(pruned)
}

/// Removes the Redis namespaces of test runs and fleets that ended without removing them,
/// unless `keep` says why not. Blocking: run it off the runtime's threads.
fn prune_redis(keep: Keep) -> anyhow::Result<Pruned> {
    let url = config::optional("TEST_REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let unreachable = || format!("could not reach Redis at {}", config::redact(&url));
    let namespaces: Vec<String> = scheduler::queued_namespaces(&url)
        .with_context(unreachable)?
        .into_iter()
        .filter(|namespace| is_unique_name(namespace, "t") || is_fleet_events_prefix(namespace))
        .collect();
    if let Keep::All(reason) = keep {
        return Ok(Pruned::kept_all(namespaces.len(), reason));
    }
    let mut pruned = Pruned::default();
    let results = namespaces
        .into_iter()
        .map(|namespace| {
            let result = scheduler::remove_namespace(&url, &namespace);
            (namespace, result)
        })
        .collect();
    pruned.count("Redis namespace", results);
    Ok(pruned)
}

fn unix_seconds(time: SystemTime) -> i64 {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// `testing::unique_name`'s shape: `prefix_` and a simple (undashed, lowercase) UUID.
fn is_unique_name(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|id| {
            id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

/// A test's database: `testing::mongo_config`'s `test_<32 hex>`.
fn is_test_database(name: &str) -> bool {
    is_unique_name(name, "test")
}

/// A test's stream: `Names::stream` of `testing::nats_config`'s prefix, `t_<32 hex>_EVENTS`.
fn is_test_stream(name: &str) -> bool {
    name.strip_suffix("_EVENTS")
        .is_some_and(|prefix| is_unique_name(prefix, "t"))
}

#[cfg(test)]
mod tests {
    use ticketing_common::{events::Names, testing};

    use super::*;

    #[test]
    fn it_knows_the_names_the_tests_make() {
        assert!(is_test_database(&testing::mongo_config().database));
        assert!(is_fleet_database("e2e_7ca119a777df_tickets"));
        assert!(is_fleet_database("e2e_7ca119a777df_scratch_raw"));
        assert!(is_fleet_events_prefix("e2e_7ca119a777df"));
        assert!(!is_fleet_events_prefix("e2e_7ca119a777df_auth"));
        assert!(!is_fleet_events_prefix("e2e_startup"));
        let stream = Names::new(testing::nats_config().events_prefix).stream();
        assert!(is_test_stream(&stream), "{stream}");
    }

    #[test]
    fn it_leaves_every_other_name_alone() {
        let id = "0123456789abcdef0123456789abcdef";
        for name in [
            "EVENTS".to_owned(),
            "e2e_abc_EVENTS".to_owned(),
            format!("t_{id}"),
            format!("t_{id}_EVENTS_x"),
            format!("t_{}_EVENTS", &id[1..]),
            format!("t_{}_EVENTS", id.to_uppercase()),
            format!("tt_{id}_EVENTS"),
        ] {
            assert!(!is_test_stream(&name), "{name}");
        }
        for name in [
            "test".to_owned(),
            "admin".to_owned(),
            format!("test_{id}x"),
            format!("test_{}", id.to_uppercase()),
            format!("test_{id}_scratch"),
        ] {
            assert!(!is_test_database(&name), "{name}");
        }
        for name in [
            "tickets",
            "e2e_7ca119a777df",
            "e2e_7ca119a777df_",
            "e2e_7CA119A777DF_auth",
            "e2e_startup_0123456789ab",
            "x_e2e_7ca119a777df_auth",
        ] {
            assert!(!is_fleet_database(name), "{name}");
        }
    }

    #[test]
    fn it_reads_its_arguments() {
        let parse = |args: &[&str]| Options::parse(args.iter().map(|arg| (*arg).to_owned()));
        let default = parse(&[]).expect("no arguments");
        assert_eq!(default.grace, Duration::from_secs(600));
        assert!(!default.all_databases);
        let given = parse(&["--older-than-minutes", "0", "--all-databases"]).expect("both");
        assert_eq!(given.grace, Duration::ZERO);
        assert!(given.all_databases);
        assert!(parse(&["--older-than-minutes"]).is_err());
        assert!(parse(&["--older-than-minutes", "ten"]).is_err());
        assert!(parse(&["--all"]).is_err());
    }
}
