//! The markdown the benchmark prints: one table of rates and ratios, one of replication, the
//! memory of each service, and the course's Node figures beside ours.

use std::{fmt::Write as _, time::Duration};

use crate::measure::{IN_FLIGHT, Measured};

/// What an endpoint's rate is compared with.
#[derive(Debug, Clone, Copy)]
pub enum Raw {
    InsertOne,
    FindOne,
    Page,
}

impl Raw {
    fn name(self) -> &'static str {
        match self {
            Self::InsertOne => "insert_one",
            Self::FindOne => "find_one",
            Self::Page => "page query",
        }
    }
}

pub struct Row {
    pub what: String,
    /// Tickets (or raw documents) that existed when the measurement started.
    pub size: usize,
    pub measured: Measured,
    /// The raw rate at the same size and the share of it the endpoint should reach.
    pub compared: Option<Compared>,
}

pub struct Compared {
    pub raw: Raw,
    pub raw_per_second: f64,
    pub target: Option<f64>,
}

#[derive(Clone)]
pub struct Replication {
    pub how: String,
    pub size: usize,
    pub tickets: usize,
    /// From the last 201 (or the last store write) until the replica held every ticket.
    pub after_last: Duration,
    /// From the first request until the replica held every ticket.
    pub from_first: Duration,
    pub target: Option<Duration>,
}

pub fn rates(rows: &[Row]) -> String {
    let mut out = String::from(
        "| what | size | requests | in flight | req/s | p50 | p99 | raw rate | ratio | target | met? |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let rate = row.measured.per_second();
        let (raw, ratio, target, met) = match &row.compared {
            None => ("–".into(), "–".into(), "–".into(), "–"),
            Some(compared) => {
                let ratio = rate / compared.raw_per_second;
                (
                    format!(
                        "{} ({})",
                        per_second(compared.raw_per_second),
                        compared.raw.name()
                    ),
                    format!("{:.0} %", ratio * 100.0),
                    compared
                        .target
                        .map_or("–".into(), |target| format!("≥ {:.0} %", target * 100.0)),
                    match compared.target {
                        None => "–",
                        Some(target) if ratio >= target => "yes",
                        Some(_) => "**no**",
                    },
                )
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {IN_FLIGHT} | {} | {} | {} | {raw} | {ratio} | {target} | {met} |",
            row.what,
            thousands(row.size),
            thousands(usize::try_from(row.measured.requests).unwrap_or(usize::MAX)),
            per_second(rate),
            millis(row.measured.p50()),
            millis(row.measured.p99()),
        );
    }
    out
}

pub fn replication(rows: &[Replication]) -> String {
    let mut out = String::from(
        "| tickets replicated into orders | size | tickets | after the last write | from the first request | target | met? |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let (target, met) = match row.target {
            None => ("–".into(), "–"),
            Some(target) => (
                format!("≤ {:.0} s", target.as_secs_f64()),
                if row.after_last <= target {
                    "yes"
                } else {
                    "**no**"
                },
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {target} | {met} |",
            row.how,
            thousands(row.size),
            thousands(row.tickets),
            seconds(row.after_last),
            seconds(row.from_first),
        );
    }
    out
}

pub fn memory(services: &[(&str, Option<u64>)]) -> String {
    let mut out = String::from("| service | resident memory after the load |\n|---|---:|\n");
    for (name, kib) in services {
        let rss = kib.map_or("?".into(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0));
        let _ = writeln!(out, "| {name} | {rss} |");
    }
    out
}

/// Ours next to the Node services of the course (issue 13); the bench cannot run those.
pub struct NodeComparison {
    pub label: String,
    pub node: &'static str,
    pub ours: Vec<String>,
}

pub fn node_comparison(sizes: &[usize], rows: &[NodeComparison]) -> String {
    let mut out = String::from("| figure | course's Node services (issue 13) |");
    for size in sizes {
        let _ = write!(out, " ours, {} tickets |", thousands(*size));
    }
    out.push_str("\n|---|---:|");
    out.push_str(&"---:|".repeat(sizes.len()));
    out.push('\n');
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            row.label,
            row.node,
            row.ours.join(" | ")
        );
    }
    out
}

pub fn per_second(rate: f64) -> String {
    if rate >= 100.0 {
        thousands(rate.round() as usize)
    } else {
        format!("{rate:.1}")
    }
}

pub fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

pub fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
