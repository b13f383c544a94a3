//! The figures of one run as data: what the markdown tables print and the charts draw, saved as
//! `results.json` beside the charts so they can be drawn again without running the bench.

use std::{fs, path::Path, process::Command};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::measure::Measured;

/// The file the figures are saved in, inside the output directory.
pub const FILE: &str = "results.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    pub run: Run,
    /// Every measurement, in the order it ran.
    pub rows: Vec<Row>,
    pub replication: Vec<Replication>,
    pub memory: Vec<Memory>,
}

/// When and how the run was made.
#[derive(Debug, Serialize, Deserialize)]
pub struct Run {
    /// UTC day the run ended on (YYYY-MM-DD).
    pub date: String,
    /// The commit the bench was built from, when `git` could tell.
    pub commit: Option<String>,
    pub cores: usize,
    pub in_flight: usize,
    /// `BENCH_SCALE`: every count was multiplied by it.
    pub scale: f64,
    /// What stopped the run early, if something did (later rounds are then missing).
    pub stopped: Option<String>,
    /// Anything a reader of the charts should know about this run.
    pub note: Option<String>,
}

impl Run {
    pub fn ended_now(cores: usize, in_flight: usize, scale: f64, stopped: Option<String>) -> Self {
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            commit: head_commit(),
            cores,
            in_flight,
            scale,
            stopped,
            note: None,
        }
    }
}

/// The short hash of the checked-out commit, `+changes` when the work tree differs from it.
fn head_commit() -> Option<String> {
    let git = |args: &[&str]| {
        let output = Command::new("git").args(args).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=7", "HEAD"])?;
    let changed = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    Some(if changed {
        format!("{commit}+changes")
    } else {
        commit
    })
}

/// One measurement: an endpoint through the ingress, the database's own rate, or the seeding.
#[derive(Debug, Serialize, Deserialize)]
pub struct Row {
    /// The round it belongs to, named by the tickets the round seeds to (0, then 10,000).
    pub round: usize,
    pub what: String,
    /// Tickets (or raw documents) that existed when the measurement started.
    pub size: usize,
    pub requests: u64,
    pub per_second: f64,
    pub latency_ms: Percentiles,
    /// The raw rate at the same size and the share of it the endpoint should reach.
    pub compared: Option<Compared>,
}

impl Row {
    pub fn measured(round: usize, what: &str, size: usize, measured: &Measured) -> Self {
        let millis = |duration: std::time::Duration| duration.as_secs_f64() * 1e3;
        Self {
            round,
            what: what.to_owned(),
            size,
            requests: measured.requests,
            per_second: measured.per_second(),
            latency_ms: Percentiles {
                p50: millis(measured.quantile(0.50)),
                p95: Some(millis(measured.quantile(0.95))),
                p99: millis(measured.quantile(0.99)),
            },
            compared: None,
        }
    }

    /// The label without its parenthesised detail ("GET /api/tickets?limit=50"), for a chart.
    pub fn short_name(&self) -> &str {
        self.what.split(" (").next().unwrap_or(&self.what)
    }
}

/// Latency percentiles in milliseconds; p95 is absent from runs transcribed from older tables.
#[derive(Debug, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: Option<f64>,
    pub p99: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Compared {
    pub raw: Raw,
    pub raw_per_second: f64,
    /// The share of the raw rate the endpoint should reach (issue 13), e.g. 0.5.
    pub target: Option<f64>,
}

impl Compared {
    pub fn ratio(&self, per_second: f64) -> f64 {
        per_second / self.raw_per_second
    }
}

/// What an endpoint's rate is compared with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Raw {
    InsertOne,
    FindOne,
    Page,
}

impl Raw {
    pub fn name(self) -> &'static str {
        match self {
            Self::InsertOne => "insert_one",
            Self::FindOne => "find_one",
            Self::Page => "page query",
        }
    }
}

/// How long the orders service took to replicate a batch of new tickets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replication {
    pub how: String,
    pub round: usize,
    pub size: usize,
    pub tickets: usize,
    /// From the last 201 (or the last store write) until the replica held every ticket.
    pub after_last_s: f64,
    /// From the first request until the replica held every ticket.
    pub from_first_s: f64,
    pub target_s: Option<f64>,
}

/// A service's resident memory after the load; `None` when it could not be read.
#[derive(Debug, Serialize, Deserialize)]
pub struct Memory {
    pub service: String,
    pub mib: Option<f64>,
}

impl Results {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let json =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&json).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let path = dir.join(FILE);
        let mut json = serde_json::to_string_pretty(self).context("serialising the results")?;
        json.push('\n');
        fs::write(&path, json).with_context(|| format!("writing {}", path.display()))
    }

    /// The rounds measured, in order.
    pub fn rounds(&self) -> Vec<usize> {
        let mut rounds: Vec<usize> = Vec::new();
        for row in &self.rows {
            if !rounds.contains(&row.round) {
                rounds.push(row.round);
            }
        }
        rounds
    }
}
