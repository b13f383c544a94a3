//! `scripts/bench.sh`: load on a fleet of release binaries behind nginx, bounded in count and
//! time, all on 127.0.0.1. Prints a markdown table (BENCHMARKS.md keeps the last one).

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::json;
use ticketing_e2e::{Fleet, FleetOptions, Service, User, eventually};

struct Row {
    what: String,
    count: usize,
    concurrency: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `count` calls of `call` with `concurrency` in flight; every call must succeed.
async fn measure<F, Fut>(
    what: &str,
    count: usize,
    concurrency: usize,
    call: F,
) -> anyhow::Result<Row>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..count)
        .map(|i| {
            let call = &call;
            async move {
                let start = Instant::now();
                call(i).await.map(|()| start.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(latencies.len() - 1)]
    };
    Ok(Row {
        what: what.to_owned(),
        count,
        concurrency,
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    })
}

fn expect(status: StatusCode, want: StatusCode, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(status == want, "{what}: {status}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let fleet = Fleet::start(FleetOptions::default()).await?;
    let seller = User::sign_up(&fleet, "bench-seller").await?;
    let mut rows = Vec::new();

    rows.push(
        measure("sign up (scrypt, OWASP cost)", 16, 4, |i| {
            let fleet = &fleet;
            async move {
                User::sign_up(fleet, &format!("bench{i}")).await?;
                Ok(())
            }
        })
        .await?,
    );

    let created_at = Instant::now();
    rows.push(
        measure("POST /api/tickets", 500, 16, |i| {
            let seller = &seller;
            async move {
                let answer = seller
                    .post(
                        "/api/tickets",
                        json!({ "title": format!("bench {i}"), "price": 10 }),
                    )
                    .await?;
                expect(answer.status, StatusCode::CREATED, "create ticket")
            }
        })
        .await?,
    );
    let replicas = fleet
        .mongo(Service::Orders)
        .await?
        .collection::<Document>("tickets");
    eventually(Duration::from_secs(120), async || {
        (replicas.count_documents(doc! {}).await.ok()? == 500).then_some(())
    })
    .await
    .ok_or_else(|| anyhow::anyhow!("not every ticket reached orders"))?;
    let replicated_in = created_at.elapsed();

    rows.push(
        measure("GET /api/tickets", 2000, 16, |_| {
            let seller = &seller;
            let url = "/api/tickets";
            async move {
                let answer = seller.get(url).await?;
                expect(answer.status, StatusCode::OK, "list")
            }
        })
        .await?
        .renamed("GET /api/tickets (500 listed)"),
    );

    let listed = seller.get("/api/tickets").await?;
    let ticket_ids: Vec<String> = listed
        .body
        .as_array()
        .map(|tickets| {
            tickets
                .iter()
                .filter_map(|t| t["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let buyer = User::sign_up(&fleet, "bench-buyer").await?;
    rows.push(
        measure("POST /api/orders", 300, 16, |i| {
            let buyer = &buyer;
            let ticket = ticket_ids[i].clone();
            async move {
                let answer = buyer
                    .post("/api/orders", json!({ "ticketId": ticket }))
                    .await?;
                expect(answer.status, StatusCode::CREATED, "place order")
            }
        })
        .await?,
    );

    println!("| operation | requests | in flight | req/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} ms | {:.1} ms |",
            row.what,
            row.count,
            row.concurrency,
            row.per_second,
            row.p50.as_secs_f64() * 1e3,
            row.p99.as_secs_f64() * 1e3
        );
    }
    println!();
    println!(
        "500 tickets created and replicated into orders (outbox -> JetStream -> listener) in {:.2} s",
        replicated_in.as_secs_f64()
    );
    println!();
    println!("| service | resident memory after the load |");
    println!("|---|---:|");
    for service in Service::ALL {
        let rss = fleet.rss_kib(service).map_or("?".to_owned(), |kib| {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        });
        println!("| {} | {rss} |", service.name());
    }
    Ok(())
}

impl Row {
    fn renamed(mut self, what: &str) -> Self {
        self.what = what.to_owned();
        self
    }
}
