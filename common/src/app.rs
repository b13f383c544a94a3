//! One way to run a service: its HTTP API plus its background workers (outbox relay, event
//! listeners), all stopped together on SIGTERM — HTTP first, then workers finish what they hold,
//! then the NATS connection is drained.

use std::{fmt, future::Future, process::ExitCode, time::Duration};

use anyhow::Context;
use axum::Router;
use futures::future::BoxFuture;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    config::{EventsConfig, HttpConfig},
    events::{Event, EventBus, Listener, ListenerOptions, OutboxRelay, listen},
    server,
};

/// How long workers get to finish in-flight work after HTTP stopped.
const WORKER_STOP_TIMEOUT: Duration = Duration::from_secs(15);

type StartWorker =
    Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// A long-running task that stops when its token is cancelled.
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
    pub fn listener_with<L: Listener>(
        bus: &EventBus,
        service: &'static str,
        listener: L,
        options: ListenerOptions,
    ) -> Self {
        let bus = bus.clone();
        let name = format!("{service} listener for {}", <L::Event as Event>::SUBJECT);
        Self::new(name, move |stop| async move {
            listen(&bus, service, listener, options, stop).await
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

/// A built service, bound to its port, ready to run.
pub struct Service {
    name: &'static str,
    port: u16,
    listener: TcpListener,
    router: Router,
    workers: Vec<Worker>,
    bus: Option<EventBus>,
}

impl Service {
    /// Binds first, so `PORT=0` works and [`Service::port`] tells the real port.
    pub async fn bind(
        name: &'static str,
        http: &HttpConfig,
        router: Router,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((http.host.as_str(), http.port))
            .await
            .with_context(|| format!("binding {}:{}", http.host, http.port))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            name,
            port,
            listener,
            router,
            workers: Vec::new(),
            bus: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
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
        tracing::info!(service = self.name, port = self.port, "listening");
        let served = server::serve(self.listener, self.router, shutdown.clone()).await;
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
        served.context("serving HTTP")?;
        match joined {
            Ok(None) => Ok(()),
            Ok(Some(err)) => Err(err),
            Err(_) => anyhow::bail!("workers did not stop within {WORKER_STOP_TIMEOUT:?}"),
        }
    }
}

/// The whole of a service's `main`: configuration (refusing to start with a clear message),
/// build, run until SIGTERM/SIGINT.
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
    let result = async {
        build(settings)
            .await?
            .run_until(server::shutdown_on_signal())
            .await
    }
    .await;
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
