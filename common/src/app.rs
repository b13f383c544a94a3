//! One way to run a service. It binds its port and answers `/healthz` at once; while it waits for
//! what it depends on (MongoDB, NATS, Redis: retried with back-off for as long as it takes, one
//! log line per attempt) `/readyz` and every other request answer 503; then it serves its routes
//! and runs its background workers (outbox relay, event listeners) until SIGTERM — HTTP stops
//! first, then workers finish what they hold, then the NATS connection is drained.
//!
//! A dependency lost later never stops the process: `/readyz` answers 503 until it is back, and
//! workers retry (a worker that returns an error stops the service, so none does for that).

use std::{fmt, future::Future, io, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use axum::Router;
use futures::future::BoxFuture;
use mongodb::Database;
use tokio::{net::TcpListener, task::JoinHandle, task::JoinSet};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{
    config::{self, EventsConfig, HttpConfig, MongoConfig, NatsConfig, StreamConfig},
    events::{
        Envelope, Event, EventBus, HandleError, Listener, ListenerOptions, OutboxRelay, listen,
    },
    mongo,
    retry::{self, Backoff},
    server::{self, Gate, Probes},
    telemetry,
};

/// How long workers get to finish in-flight work after HTTP stopped.
const WORKER_STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// How long one attempt to reach MongoDB or NATS at start may take: each failed attempt is a log
/// line, and the drivers alone would wait 10 s (server selection, JetStream request) or, for a
/// request held until NATS is connected, for ever.
const REACH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The pauses between attempts to reach something that is not there (yet), by the fleet's
/// back-off policy ([`retry`]): a quarter of a second, doubling up to a second — for ever. Short
/// enough that a service is ready within a few seconds of its dependencies answering, long
/// enough that waiting costs nothing.
pub fn retry_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(250), Duration::from_secs(1))
}

/// The failed attempts at one thing, paced by [`retry_backoff`]: each failure is one warning
/// saying what is awaited, why the attempt failed and when the next one comes.
struct Attempts<'a> {
    what: &'a str,
    delays: Backoff,
    failed: u32,
}

impl<'a> Attempts<'a> {
    fn new(what: &'a str) -> Self {
        Self {
            what,
            delays: retry_backoff(),
            failed: 0,
        }
    }

    /// Logs the failure; returns the pause before the next attempt.
    fn failed(&mut self, err: &anyhow::Error) -> Duration {
        self.failed += 1;
        let delay = self.delays.next_delay();
        tracing::warn!(
            attempt = self.failed, error = %format!("{err:#}"),
            "waiting for {}: next attempt in {delay:.1?}", self.what
        );
        delay
    }

    fn succeeded(&self) {
        if self.failed > 0 {
            tracing::info!(failed_attempts = self.failed, "{} answered", self.what);
        }
    }
}

type StartWorker =
    Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// A long-running task that stops when its token is cancelled. Returning an error stops the whole
/// service: keep that for what a restart can fix (bad configuration), and retry lost dependencies.
pub struct Worker {
    name: String,
    start: StartWorker,
}

impl Worker {
    pub fn new<F, Fut>(name: impl Into<String>, start: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            name: name.into(),
            start: Box::new(move |token| Box::pin(start(token))),
        }
    }
}

impl Worker {
    /// Handles `listener`'s events as `service` (one durable consumer shared by all replicas),
    /// as many at once as `EVENT_CONCURRENCY` says. The variable is read here so every listener
    /// of the fleet obeys it; a bad value stops the service at start, naming the variable.
    pub fn listener<L: Listener>(bus: &EventBus, service: &'static str, listener: L) -> Self {
        match EventsConfig::from_env() {
            Ok(config) => Self::listener_with(bus, service, listener, config.into()),
            Err(err) => {
                let name = format!("{service} listener for {}", <L::Event as Event>::SUBJECT);
                Self::new(name, move |_| async move { Err(err.into()) })
            }
        }
    }

    /// [`Worker::listener`] with explicit options (a service that reads its own settings).
    ///
    /// [`listen`] fails only when it cannot create its durable consumer, before it takes any
    /// event: NATS was lost just then. That is waited out with back-off like NATS at start, not a
    /// reason to stop the service (once listening, it rides out losses by itself).
    pub fn listener_with<L: Listener>(
        bus: &EventBus,
        service: &'static str,
        listener: L,
        options: ListenerOptions,
    ) -> Self {
        let bus = bus.clone();
        let name = format!("{service} listener for {}", <L::Event as Event>::SUBJECT);
        let listener = Arc::new(listener);
        Self::new(name.clone(), move |stop| async move {
            let what = format!("NATS to start the {name}");
            let mut attempts = Attempts::new(&what);
            loop {
                let listening = listen(
                    &bus,
                    service,
                    Shared(Arc::clone(&listener)),
                    options.clone(),
                    stop.clone(),
                );
                match listening.await {
                    Ok(()) => return Ok(()),
                    Err(_) if stop.is_cancelled() => return Ok(()),
                    Err(err) => {
                        if !retry::pause(attempts.failed(&err), &stop).await {
                            return Ok(());
                        }
                    }
                }
            }
        })
    }

    /// Publishes what the service's writes leave in their outboxes.
    pub fn outbox_relay(relay: OutboxRelay) -> Self {
        Self::new("outbox relay", move |stop| async move {
            relay.run(stop).await;
            Ok(())
        })
    }
}

/// A listener shared between attempts to start listening.
struct Shared<L>(Arc<L>);

impl<L: Listener> Listener for Shared<L> {
    type Event = L::Event;

    fn handle(
        &self,
        event: Envelope<Self::Event>,
    ) -> impl Future<Output = Result<(), HandleError>> + Send {
        self.0.handle(event)
    }
}

/// The HTTP server, serving from the moment the port is bound.
struct Http {
    port: u16,
    task: JoinHandle<io::Result<()>>,
    stop: CancellationToken,
    /// Stops the server if the service is dropped without running (a stop while starting).
    _stop_on_drop: DropGuard,
}

impl Http {
    fn serve(listener: TcpListener, app: Router) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let stop = CancellationToken::new();
        let task = tokio::spawn(server::serve(listener, app, stop.clone()));
        Ok(Self {
            port,
            task,
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
        })
    }

    /// Serves until `shutdown`, then lets in-flight requests finish (see [`server::serve`]).
    async fn run_until(mut self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let ended = tokio::select! {
            () = shutdown.cancelled() => None,
            // The server only ends by itself if it failed.
            ended = &mut self.task => Some(ended),
        };
        let ended = match ended {
            Some(ended) => ended,
            None => {
                self.stop.cancel();
                (&mut self.task).await
            }
        };
        ended
            .context("the HTTP server panicked")?
            .context("serving HTTP")
    }
}

/// A service that has bound its port and answers `/healthz`, while it waits for its
/// dependencies: `/readyz` and every other request answer 503 "Service is starting" until
/// [`Starting::ready`] hands over its routes.
pub struct Starting {
    name: &'static str,
    gate: Gate,
    http: Http,
}

impl Starting {
    /// Binds first, so `PORT=0` works and [`Starting::port`] tells the real port, and serves at once.
    pub async fn bind(name: &'static str, http: &HttpConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((http.host.as_str(), http.port))
            .await
            .with_context(|| format!("binding {}:{}", http.host, http.port))?;
        let gate = Gate::default();
        let http = Http::serve(listener, server::gated_app(gate.clone()))?;
        tracing::info!(service = name, port = http.port, "listening; starting");
        Ok(Self { name, gate, http })
    }

    pub fn port(&self) -> u16 {
        self.http.port
    }

    /// Calls `attempt` until it succeeds, pausing by [`retry_backoff`] in between; each failure is
    /// one log line naming `what` and the next delay, and `/readyz` shows `what` meanwhile. It
    /// never gives up: a service stopped while it waits is stopped by dropping this future.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, mut attempt: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let _shown = self.gate.waiting_for(what);
        let mut attempts = Attempts::new(what);
        loop {
            match attempt().await {
                Ok(value) => {
                    attempts.succeeded();
                    return value;
                }
                Err(err) => tokio::time::sleep(attempts.failed(&err)).await,
            }
        }
    }

    /// The service's database, once MongoDB answers a ping. Fails only for a URI the driver
    /// cannot use.
    pub async fn mongo(&self, config: &MongoConfig, app_name: &str) -> anyhow::Result<Database> {
        let db = mongo::connect(config, app_name).await?;
        let what = format!("MongoDB at {}", config::redact(&config.uri));
        self.wait_for(&what, || async {
            tokio::time::timeout(REACH_ATTEMPT_TIMEOUT, mongo::ping(&db))
                .await
                .map_err(|_| anyhow::anyhow!("no answer within {REACH_ATTEMPT_TIMEOUT:?}"))?
        })
        .await;
        Ok(db)
    }

    /// The event bus, once NATS answers and the stream is in place: created, or updated to
    /// `stream` (see [`EventBus::ensure_stream`]). Fails only for a URL the client cannot use.
    pub async fn event_bus(
        &self,
        config: &NatsConfig,
        stream: &StreamConfig,
    ) -> anyhow::Result<EventBus> {
        let bus = EventBus::open(config).await?;
        let what = format!("NATS at {}", config::redact(&config.url));
        // A JetStream request made while NATS is away is held until the client connects, so an
        // attempt in flight when NATS comes back succeeds at once.
        self.wait_for(&what, || async {
            match tokio::time::timeout(REACH_ATTEMPT_TIMEOUT, bus.ensure_stream(stream)).await {
                Ok(ensured) => ensured,
                Err(_) => Err(bus.check_connected().err().unwrap_or_else(|| {
                    anyhow::anyhow!("JetStream did not answer within {REACH_ATTEMPT_TIMEOUT:?}")
                })),
            }
        })
        .await;
        Ok(bus)
    }

    /// Serves `routes` from now on, and `/readyz` answers with `probes`.
    pub fn ready(self, routes: Router, probes: Probes) -> Service {
        self.gate.open(routes, probes);
        tracing::info!(service = self.name, port = self.http.port, "ready");
        Service {
            name: self.name,
            http: self.http,
            workers: Vec::new(),
            bus: None,
        }
    }
}

/// A started service: serving its routes, with the workers it will run.
pub struct Service {
    name: &'static str,
    http: Http,
    workers: Vec<Worker>,
    bus: Option<EventBus>,
}

impl Service {
    pub fn port(&self) -> u16 {
        self.http.port
    }

    pub fn with_worker(mut self, worker: Worker) -> Self {
        self.workers.push(worker);
        self
    }

    /// The bus to drain once everything else has stopped.
    pub fn with_bus(mut self, bus: EventBus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Runs until `shutdown` is cancelled, or until a worker fails (then the whole service stops,
    /// so the orchestrator restarts it rather than leaving it half alive).
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let workers_stop = CancellationToken::new();
        let mut workers = JoinSet::new();
        for worker in self.workers {
            let token = workers_stop.clone();
            let name = worker.name;
            let failed = shutdown.clone();
            workers.spawn(async move {
                let result = (worker.start)(token).await;
                if let Err(err) = &result {
                    tracing::error!(worker = %name, error = %format!("{err:#}"), "worker failed; stopping the service");
                    failed.cancel();
                }
                result.with_context(|| format!("worker {name}"))
            });
        }
        tracing::info!(service = self.name, port = self.http.port, "running");
        let served = self.http.run_until(&shutdown).await;
        workers_stop.cancel();
        let joined = tokio::time::timeout(WORKER_STOP_TIMEOUT, async {
            let mut first_error = None;
            while let Some(result) = workers.join_next().await {
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => {
                        first_error.get_or_insert(err);
                    }
                    Err(err) => {
                        first_error
                            .get_or_insert(anyhow::Error::new(err).context("worker panicked"));
                    }
                }
            }
            first_error
        })
        .await;
        if let Some(bus) = self.bus {
            bus.close().await;
        }
        served?;
        match joined {
            Ok(None) => Ok(()),
            Ok(Some(err)) => Err(err),
            Err(_) => anyhow::bail!("workers did not stop within {WORKER_STOP_TIMEOUT:?}"),
        }
    }
}

/// The whole of a service's `main`: configuration (refusing to start with a clear message),
/// build (which waits for the dependencies while already answering `/healthz`), run until
/// SIGTERM/SIGINT — which also ends a start that is still waiting.
pub async fn run<S, E, B, Fut>(name: &'static str, settings: Result<S, E>, build: B) -> ExitCode
where
    E: fmt::Display,
    B: FnOnce(S) -> Fut,
    Fut: Future<Output = anyhow::Result<Service>>,
{
    let settings = match settings {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("{name}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = server::shutdown_on_signal();
    let result = async {
        let service = tokio::select! {
            built = build(settings) => built?,
            () = shutdown.cancelled() => {
                tracing::info!(service = name, "stopped while starting");
                return Ok(());
            }
        };
        service.run_until(shutdown).await
    }
    .await;
    // The spans of the last requests and events leave before the process does.
    telemetry::shutdown().await;
    match result {
        Ok(()) => {
            tracing::info!(service = name, "stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(service = name, error = ?err, "failed");
            eprintln!("{name}: {err:#}");
            ExitCode::FAILURE
        }
    }
}
