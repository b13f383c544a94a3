//! `scripts/bench.sh`: the fleet's endpoints through the ingress next to the database's own
//! rates, measured in the same run, at the same concurrency and at the same data size, so each
//! endpoint reads as a share of what the database under it can do. Two sizes: a fresh fleet,
//! and one holding 10,000 tickets (seeded through the tickets service's own store). Every request
//! must succeed. Prints markdown (BENCHMARKS.md keeps the last run); progress goes to stderr.
//! Saves the figures as `results.json` and draws them as SVG charts in `benchmarks/`.
//!
//! `BENCH_SCALE` (0 < scale ≤ 1, default 1) shrinks every count, to try the bench out quickly
//! (its figures go to a temporary directory, not over the committed ones).
//! `BENCH_OUTPUT_DIR` puts the figures elsewhere. `--render-only` runs nothing: it draws the
//! charts again from the `results.json` already there.

mod chart;
mod measure;
mod output;
mod raw;
mod report;
mod results;

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::TryStreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use ticketing_common::{
    domain::{Money, UserId},
    events::{EventBus, OutboxRelay, OutboxSignal, Subject},
};
use ticketing_e2e::{Answer, Fleet, FleetOptions, Service, User, eventually};
use tickets::{domain::Title, store::Tickets};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{
    measure::{IN_FLIGHT, Load, Measured, measure},
    raw::{RawDatabase, spread},
    report::NodeComparison,
    results::{Compared, Memory, Raw, Replication, Results, Row, Run},
};

/// Tickets that exist before each round of measurements (the second is seeded).
const SIZES: [usize; 2] = [0, 10_000];
/// POST /api/tickets per size (and as many raw inserts); also the replication figure.
const CREATED: usize = 1_000;
/// POST /api/orders per size, each on a ticket created just before: all of them. With 500 the
/// measurement lasted about 2 s while the events the orders caused went on for 2 s more, so
/// the figure caught half the cascade's cost and two runs differed by a third.
const ORDERED: usize = CREATED;
/// Requests per read measurement, unless `READ_WITHIN` passes first.
const READS: usize = 2_000;
const READ_WITHIN: Duration = Duration::from_secs(20);
const READ_TIMEOUT: Duration = Duration::from_secs(120);
/// Targets from issue 13: shares of the raw rate, and the replication lag in seconds.
const CREATE_TARGET: f64 = 0.50;
const ORDER_TARGET: f64 = 0.25;
const REPLICATION_TARGET: f64 = 3.0;
/// The first page of the list, as the client asks for it.
const LIST_PAGE: &str = "/api/tickets?limit=50";
const REPLICA_POLL: Duration = Duration::from_millis(50);

struct Plan {
    scale: f64,
    sizes: [usize; 2],
    created: usize,
    ordered: usize,
    reads: usize,
}

impl Plan {
    fn from_env() -> anyhow::Result<Self> {
        let scale = match std::env::var("BENCH_SCALE") {
            Ok(raw) => raw
                .parse::<f64>()
                .with_context(|| format!("BENCH_SCALE={raw:?} is not a number"))?,
            Err(_) => 1.0,
        };
        anyhow::ensure!(
            scale > 0.0 && scale <= 1.0,
            "BENCH_SCALE must be above 0 and at most 1"
        );
        let scaled = |n: usize| ((n as f64 * scale).round() as usize).max(IN_FLIGHT);
        Ok(Self {
            scale,
            sizes: SIZES.map(|size| if size == 0 { 0 } else { scaled(size) }),
            created: scaled(CREATED),
            ordered: scaled(ORDERED).min(scaled(CREATED)),
            reads: scaled(READS),
        })
    }
}

/// The figures of one size that the Node comparison quotes.
struct Headline {
    /// Tickets that existed before the round created its own.
    size: usize,
    create: f64,
    order: f64,
    list: f64,
    replication: Replication,
}

struct Bench<'f> {
    fleet: &'f Fleet,
    plan: Plan,
    seller: User,
    seller_id: UserId,
    buyer: User,
    /// The GETs need no session; their own client waits longer than `User`'s 10 s, so a slow
    /// page is measured rather than cut off.
    reader: reqwest::Client,
    store: Tickets,
    /// Stops the relay of the seeding writer's events with the bench (see `seeding_relay`).
    _seeding_relay: DropGuard,
    /// The fleet's event bus: how far orders' replica has got is read from its consumer.
    bus: EventBus,
    raw: RawDatabase,
    /// Every ticket that exists, by the id the API shows.
    tickets: Vec<String>,
    /// The round being measured, named by the tickets it seeds to.
    round: usize,
    rows: Vec<Row>,
    replications: Vec<Replication>,
    headlines: Vec<Headline>,
}

/// What a run measured, as data and as markdown, and what stopped it if something failed.
struct Outcome {
    results: Results,
    report: String,
    failed: Option<anyhow::Error>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().skip(1).any(|arg| arg == "--render-only") {
        let dir = output::committed_dir();
        for chart in output::render_again(&dir)? {
            progress(&format!("drew {}", chart.display()));
        }
        return Ok(());
    }
    let plan = Plan::from_env()?;
    let dir = output::dir(plan.scale);
    progress("starting the fleet");
    let fleet = Fleet::start(FleetOptions::default()).await?;
    let outcome = run(&fleet, plan).await;
    if outcome
        .as_ref()
        .map_or(true, |outcome| outcome.failed.is_some())
    {
        eprintln!("{}", fleet.logs());
    }
    // Its databases hold thousands of tickets: the fleet drops them as it stops.
    drop(fleet);
    let Outcome {
        results,
        report,
        failed,
    } = outcome?;
    println!("{report}");
    let saved = output::save(&results, &dir);
    if let Ok(files) = &saved {
        for file in files {
            progress(&format!("wrote {}", file.display()));
        }
    }
    match failed {
        None => saved.map(drop),
        Some(err) => {
            println!("**The run stopped early: {err:#}**");
            if let Err(not_saved) = saved {
                eprintln!("{not_saved:#}");
            }
            Err(err)
        }
    }
}

async fn run(fleet: &Fleet, plan: Plan) -> anyhow::Result<Outcome> {
    let mut bench = Bench::new(fleet, plan).await?;
    let mut failed = None;
    for size in bench.plan.sizes {
        if let Err(err) = bench.at_size(size).await {
            failed = Some(err);
            break;
        }
    }
    let results = bench.results(failed.as_ref());
    Ok(Outcome {
        report: bench.report(&results),
        results,
        failed,
    })
}

/// A writer hands its events to a relay in its own process (`events::outbox`), so the bench,
/// writing through the tickets store, relays what it seeds, as the tickets service does.
fn seeding_relay(bus: &EventBus, store: &Tickets, signal: OutboxSignal) -> DropGuard {
    let stop = CancellationToken::new();
    let relay = OutboxRelay::new(bus.publisher(), vec![store.outbox_collection()], signal);
    tokio::spawn(relay.run(stop.clone()));
    stop.drop_guard()
}

impl<'f> Bench<'f> {
    async fn new(fleet: &'f Fleet, plan: Plan) -> anyhow::Result<Self> {
        let seller = User::sign_up(fleet, "bench-seller").await?;
        let me = seller.get("/api/users/currentuser").await?;
        let seller_id = me.body["currentUser"]["id"]
            .as_str()
            .context("no current user")
            .and_then(|id| UserId::parse(id).context("the current user's id"))?;
        let buyer = User::sign_up(fleet, "bench-buyer").await?;
        let signal = OutboxSignal::default();
        let store = Tickets::open(&fleet.mongo(Service::Tickets).await?, signal.clone())
            .await
            .context("opening the tickets store")?;
        let bus = fleet
            .event_bus()
            .await
            .context("connecting to the fleet's bus")?;
        let seeding_relay = seeding_relay(&bus, &store, signal);
        Ok(Self {
            fleet,
            seller,
            seller_id,
            buyer,
            reader: reqwest::Client::builder()
                .timeout(READ_TIMEOUT)
                .build()
                .context("building the HTTP client")?,
            store,
            _seeding_relay: seeding_relay,
            bus,
            raw: RawDatabase::open(fleet).await?,
            tickets: Vec::new(),
            round: 0,
            rows: Vec::new(),
            replications: Vec::new(),
            headlines: Vec::new(),
            plan,
        })
    }

    /// One round: seed up to `size`, then the database's rates and the endpoints' at that size.
    async fn at_size(&mut self, size: usize) -> anyhow::Result<()> {
        self.round = size;
        self.seed_to(size).await?;
        self.raw.seed_to(self.tickets.len()).await?;

        progress(&format!("{} tickets: writes", self.tickets.len()));
        let raw_size = self.raw.len();
        let inserted = self.raw.insert_one(Load::all(self.plan.created)).await?;
        let insert_rate = inserted.per_second();
        self.push("raw insert_one (mongodb driver)", raw_size, inserted, None);

        let before = self.tickets.len();
        let (created, fresh) = self.create_tickets().await?;
        let create_rate = created.per_second();
        self.tickets.extend(fresh.iter().cloned());
        let replication = self
            .replicated("POST /api/tickets", before, fresh.len(), &created)
            .await?;
        // Kept now: if a read below fails, the report still shows this round's replication.
        self.replications.push(replication.clone());
        self.push(
            "POST /api/tickets",
            before,
            created,
            Some((Raw::InsertOne, insert_rate, Some(CREATE_TARGET))),
        );

        progress(&format!("{} tickets: reads", self.tickets.len()));
        let size = self.tickets.len();
        let found = self.raw.find_one(self.reads()).await?;
        let find_rate = found.per_second();
        self.push(
            "raw find_one by _id (mongodb driver)",
            self.raw.len(),
            found,
            None,
        );

        let paged = self.raw.page(self.reads()).await?;
        let page_rate = paged.per_second();
        self.push(
            "raw page query (find, sort, limit 54)",
            self.raw.len(),
            paged,
            None,
        );
        let (listed, page) = self.list().await?;
        let list_rate = listed.per_second();
        self.push(
            &format!("GET {LIST_PAGE} (first page: {page} listed)"),
            size,
            listed,
            Some((Raw::Page, page_rate, None)),
        );
        let shown = self.show().await?;
        self.push(
            "GET /api/tickets/:id",
            size,
            shown,
            Some((Raw::FindOne, find_rate, None)),
        );
        let (ordered, reserved) = self.order(&fresh).await?;
        let order_rate = ordered.per_second();
        self.push(
            "POST /api/orders (a fresh ticket each)",
            size,
            ordered,
            Some((Raw::FindOne, find_rate, Some(ORDER_TARGET))),
        );
        self.settle(&reserved).await?;

        self.headlines.push(Headline {
            size: before,
            create: create_rate,
            order: order_rate,
            list: list_rate,
            replication,
        });
        Ok(())
    }

    fn reads(&self) -> Load {
        Load::at_most(self.plan.reads, READ_WITHIN)
    }

    fn push(
        &mut self,
        what: &str,
        size: usize,
        measured: Measured,
        compared: Option<(Raw, f64, Option<f64>)>,
    ) {
        self.rows.push(Row {
            compared: compared.map(|(raw, raw_per_second, target)| Compared {
                raw,
                raw_per_second,
                target,
            }),
            ..Row::measured(self.round, what, size, &measured)
        });
    }

    /// Creates tickets through the tickets service's own store (no HTTP), `IN_FLIGHT` at once,
    /// until `size` exist, and waits until the orders service has replicated them all.
    async fn seed_to(&mut self, size: usize) -> anyhow::Result<()> {
        let missing = size.saturating_sub(self.tickets.len());
        if missing == 0 {
            return Ok(());
        }
        progress(&format!("seeding {missing} tickets through the store"));
        let before = self.tickets.len();
        let (store, owner) = (&self.store, self.seller_id);
        let price = Money::from_cents(2_500).map_err(|err| anyhow::anyhow!("{err:?}"))?;
        let (stored, ids) = measure(
            "seeding through the store",
            Load::all(missing),
            |i| async move {
                let title =
                    Title::parse(&format!("seeded {}", before + i)).map_err(anyhow::Error::msg)?;
                let ticket = store.create(title, price, owner).await?;
                Ok(ticket.id.to_hex())
            },
        )
        .await?;
        self.tickets.extend(ids);
        let replication = self
            .replicated("seeded through Tickets::create", before, missing, &stored)
            .await?;
        self.replications.push(replication);
        self.push(
            "seeding: Tickets::create (the store, no HTTP)",
            before,
            stored,
            None,
        );
        Ok(())
    }

    async fn create_tickets(&self) -> anyhow::Result<(Measured, Vec<String>)> {
        let seller = &self.seller;
        measure(
            "POST /api/tickets",
            Load::all(self.plan.created),
            |i| async move {
                let answer = seller
                    .post(
                        "/api/tickets",
                        json!({ "title": format!("bench {i}"), "price": 25 }),
                    )
                    .await?;
                expect(&answer, StatusCode::CREATED)?;
                answer.body["id"]
                    .as_str()
                    .map(str::to_owned)
                    .context("a created ticket without an id")
            },
        )
        .await
    }

    /// Waits until the orders replica holds every ticket created so far; `written` is the
    /// measurement that wrote the last `count` of them.
    async fn replicated(
        &self,
        how: &str,
        size: usize,
        count: usize,
        written: &Measured,
    ) -> anyhow::Result<Replication> {
        let want = self.tickets.len() as u64;
        let deadline = Duration::from_secs(60) + Duration::from_millis(50) * count as u32;
        let until = Instant::now() + deadline;
        let held = loop {
            let held = self.replicated_tickets(want).await?;
            if held >= want {
                break Instant::now();
            }
            anyhow::ensure!(
                Instant::now() < until,
                "the orders replica holds {held} of {want} tickets after {deadline:?}"
            );
            tokio::time::sleep(REPLICA_POLL).await;
        };
        Ok(Replication {
            how: how.to_owned(),
            round: self.round,
            size,
            tickets: count,
            after_last_s: (held - written.finished).as_secs_f64(),
            from_first_s: (held - (written.finished - written.elapsed)).as_secs_f64(),
            target_s: how.starts_with("POST").then_some(REPLICATION_TARGET),
        })
    }

    /// Tickets the orders service's replica holds, read from the bus rather than the replica: a
    /// count on FerretDB decodes every document of the collection, and polling that every 50 ms
    /// at 10,000 tickets would take a core from the fleet being measured. Once the stream holds
    /// `want` ticket.created events and orders' consumer of them has nothing left to deliver and
    /// nothing unacked, every one of them was applied (the listener acks after its write).
    async fn replicated_tickets(&self, want: u64) -> anyhow::Result<u64> {
        let names = self.bus.names();
        let stream = self
            .bus
            .jetstream()
            .get_stream(names.stream())
            .await
            .context("the fleet's stream")?;
        let mut subjects = stream
            .info_with_subjects(names.subject(Subject::TicketCreated))
            .await
            .context("counting ticket.created")?;
        let mut published = 0;
        while let Some((_, count)) = subjects.try_next().await.context("reading the count")? {
            published += count as u64;
        }
        if published < want {
            return Ok(published);
        }
        let durable = names.durable(Service::Orders.name(), Subject::TicketCreated);
        let consumer = stream
            .consumer_info(&durable)
            .await
            .context("orders' consumer of ticket.created")?;
        let handled = consumer.num_pending == 0 && consumer.num_ack_pending == 0;
        Ok(if handled {
            published
        } else {
            published.saturating_sub(consumer.num_pending + consumer.num_ack_pending as u64)
        })
    }

    async fn list(&self) -> anyhow::Result<(Measured, usize)> {
        let first = self.read(LIST_PAGE).await?;
        let page = listed(&first).context("the list answered no array of tickets")?;
        let (measured, _) = measure("GET /api/tickets", self.reads(), |_| async move {
            self.read(LIST_PAGE).await.map(drop)
        })
        .await?;
        Ok((measured, page))
    }

    async fn show(&self) -> anyhow::Result<Measured> {
        let tickets = &self.tickets;
        let (measured, _) = measure("GET /api/tickets/:id", self.reads(), |i| async move {
            let id = &tickets[spread(i, tickets.len())];
            self.read(&format!("/api/tickets/{id}")).await.map(drop)
        })
        .await?;
        Ok(measured)
    }

    /// A GET that must answer 200 with JSON.
    async fn read(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .reader
            .get(self.fleet.url(path))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .with_context(|| format!("GET {path}"))?;
        anyhow::ensure!(
            status == StatusCode::OK,
            "GET {path} answered {status}: {body}"
        );
        serde_json::from_str(&body).with_context(|| format!("GET {path} answered no JSON"))
    }

    /// One order per fresh ticket; returns the tickets ordered.
    async fn order(&self, fresh: &[String]) -> anyhow::Result<(Measured, Vec<String>)> {
        let buyer = &self.buyer;
        let load = Load::at_most(self.plan.ordered.min(fresh.len()), READ_WITHIN);
        measure("POST /api/orders", load, |i| async move {
            let ticket = &fresh[i];
            let answer = buyer
                .post("/api/orders", json!({ "ticketId": ticket }))
                .await?;
            expect(&answer, StatusCode::CREATED)?;
            Ok(ticket.clone())
        })
        .await
    }

    /// Waits until the tickets service shows every ordered ticket reserved (`order.created`
    /// handled), so the next round does not share the machine with this one's events.
    async fn settle(&self, reserved: &[String]) -> anyhow::Result<()> {
        progress("waiting for the orders' events to settle");
        let seller = &self.seller;
        measure("waiting for reservations", Load::all(reserved.len()), |i| {
            let path = format!("/api/tickets/{}", reserved[i]);
            async move {
                eventually(Duration::from_secs(120), async || {
                    let answer = seller.get(&path).await.ok()?;
                    answer.body["orderId"].is_string().then_some(())
                })
                .await
                .with_context(|| format!("{path} never showed its reservation"))
            }
        })
        .await?;
        Ok(())
    }

    /// The figures measured so far, with each service's memory now (after the load).
    fn results(&mut self, failed: Option<&anyhow::Error>) -> Results {
        Results {
            run: Run::ended_now(
                std::thread::available_parallelism().map_or(0, usize::from),
                IN_FLIGHT,
                self.plan.scale,
                failed.map(|err| format!("{err:#}")),
            ),
            rows: std::mem::take(&mut self.rows),
            replication: std::mem::take(&mut self.replications),
            memory: Service::ALL
                .into_iter()
                .map(|service| Memory {
                    service: service.name().to_owned(),
                    mib: self.fleet.rss_kib(service).map(|kib| kib as f64 / 1024.0),
                })
                .collect(),
        }
    }

    fn report(&self, results: &Results) -> String {
        let mut out = format!(
            "Fleet of {} binaries behind nginx, database at {}, {} cores; \
             {IN_FLIGHT} requests in flight throughout; scale {}.\n\n",
            self.fleet.binary_dir().display(),
            self.fleet.mongo_uri(),
            results.run.cores,
            self.plan.scale
        );
        out.push_str(&report::rates(&results.rows));
        out.push('\n');
        out.push_str(&report::replication(&results.replication));
        out.push('\n');
        out.push_str(&report::memory(&results.memory));
        out.push('\n');
        let sizes: Vec<usize> = self.headlines.iter().map(|h| h.size).collect();
        let figures = |f: fn(&Headline) -> String| self.headlines.iter().map(f).collect();
        out.push_str(&report::node_comparison(
            &sizes,
            &[
                NodeComparison {
                    label: "POST /api/tickets, req/s".into(),
                    node: "271–315",
                    ours: figures(|h| report::per_second(h.create)),
                },
                NodeComparison {
                    label: "POST /api/orders, req/s".into(),
                    node: "24–33",
                    ours: figures(|h| report::per_second(h.order)),
                },
                NodeComparison {
                    label: format!(
                        "{} tickets replicated into orders",
                        report::thousands(self.plan.created)
                    ),
                    node: "3.4–4.0 s",
                    ours: figures(|h| {
                        format!(
                            "{} after the last 201 ({} from the first request)",
                            report::seconds(h.replication.after_last_s),
                            report::seconds(h.replication.from_first_s)
                        )
                    }),
                },
                NodeComparison {
                    label: "GET /api/tickets, req/s".into(),
                    node: "21–24 (every ticket)",
                    ours: figures(|h| format!("{} (first page)", report::per_second(h.list))),
                },
            ],
        ));
        out
    }
}

fn expect(answer: &Answer, want: StatusCode) -> anyhow::Result<()> {
    anyhow::ensure!(
        answer.status == want,
        "answered {} instead of {want}: {}",
        answer.status,
        answer.body
    );
    Ok(())
}

/// How many tickets a page of the list holds: a bare array, or the first array in an object.
fn listed(body: &Value) -> Option<usize> {
    match body {
        Value::Array(tickets) => Some(tickets.len()),
        Value::Object(fields) => fields
            .values()
            .find_map(|value| value.as_array().map(Vec::len)),
        _ => None,
    }
}

fn progress(what: &str) {
    eprintln!("==> bench: {what}");
}
