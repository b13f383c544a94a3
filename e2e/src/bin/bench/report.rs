//! The markdown the benchmark prints: one table of rates and ratios, one of replication, the
//! memory of each service, and the course's Node figures beside ours.

use std::fmt::Write as _;

use crate::{
    measure::IN_FLIGHT,
    results::{Memory, Replication, Row},
};

pub fn rates(rows: &[Row]) -> String {
    let mut out = String::from(
        "| what | size | requests | in flight | req/s | p50 | p95 | p99 | raw rate | ratio | target | met? |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let rate = row.per_second;
        let (raw, ratio, target, met) = match &row.compared {
            None => ("–".into(), "–".into(), "–".into(), "–"),
            Some(compared) => {
                let ratio = compared.ratio(rate);
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
        let latency = &row.latency_ms;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {IN_FLIGHT} | {} | {} | {} | {} | {raw} | {ratio} | {target} | {met} |",
            row.what,
            thousands(row.size),
            thousands(usize::try_from(row.requests).unwrap_or(usize::MAX)),
            per_second(rate),
            millis(latency.p50),
            latency.p95.map_or("–".into(), millis),
            millis(latency.p99),
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
        let (target, met) = match row.target_s {
            None => ("–".into(), "–"),
            Some(target) => (
                format!("≤ {target:.0} s"),
                if row.after_last_s <= target {
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
            seconds(row.after_last_s),
            seconds(row.from_first_s),
        );
    }
    out
}

pub fn memory(services: &[Memory]) -> String {
    let mut out = String::from("| service | resident memory after the load |\n|---|---:|\n");
    for memory in services {
        let rss = memory.mib.map_or("?".into(), |mib| format!("{mib:.1} MiB"));
        let _ = writeln!(out, "| {} | {rss} |", memory.service);
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

pub fn millis(millis: f64) -> String {
    format!("{millis:.1} ms")
}

pub fn seconds(seconds: f64) -> String {
    format!("{seconds:.2} s")
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
