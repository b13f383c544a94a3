use std::{
    collections::BTreeMap,
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    sync::LazyLock,
    time::Duration,
};

use anyhow::{Context, bail};
use ticketing_common::{config::NatsConfig, events::EventBus, poll};

use crate::{nats::Nats, process::Process};

/// The services of the fleet, with the binary each runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Auth,
    Tickets,
    Orders,
    Payments,
    Expiration,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Self::Auth,
        Self::Tickets,
        Self::Orders,
        Self::Payments,
        Self::Expiration,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Tickets => "tickets",
            Self::Orders => "orders",
            Self::Payments => "payments",
            Self::Expiration => "expiration",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub order_expiration: Duration,
    /// NATS servers: 1, or a cluster (3, as the `gke` profile runs) with the stream replicated
    /// on each node.
    pub nats_nodes: usize,
    /// Where the services export their traces (`OTEL_EXPORTER_OTLP_ENDPOINT`); none by default.
    pub otlp_endpoint: Option<String>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            order_expiration: Duration::from_secs(900),
            nats_nodes: 1,
            otlp_endpoint: None,
        }
    }
}

struct Running {
    port: u16,
    process: Process,
}

pub struct Fleet {
    id: String,
    dir: PathBuf,
    options: FleetOptions,
    nats: Nats,
    services: BTreeMap<Service, Running>,
    ingress_port: u16,
    ingress: Ingress,
}

/// The MongoDB of the shared backing services the project's scripts start (with Redis and
/// stripe-mock): `TEST_MONGO_URI` if set (as for the services' own tests), else the local FerretDB.
static MONGO: LazyLock<String> = LazyLock::new(|| {
    std::env::var("TEST_MONGO_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into())
});
/// The Redis of the backing services, for the expiration service: `TEST_REDIS_URL` if set.
static REDIS: LazyLock<String> = LazyLock::new(|| {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
});
const JWT_KEY: &str = "end-to-end-tests-key-that-is-long-enough";

impl Fleet {
    /// Starts NATS, the five services and the ingress, and waits until all are ready.
    pub async fn start(options: FleetOptions) -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let dir = target_dir().join("e2e").join(&id);
        std::fs::create_dir_all(dir.join("logs"))?;
        std::fs::create_dir_all(dir.join("nginx"))?;
        let nats = Nats::new(&dir, options.nats_nodes)?;
        let ports: BTreeMap<Service, u16> = Service::ALL
            .into_iter()
            .map(|service| Ok((service, free_port()?)))
            .collect::<anyhow::Result<_>>()?;
        let ingress_port = free_port()?;
        let ingress = start_ingress(&dir, ingress_port, &ports)?;
        let mut fleet = Self {
            id,
            dir,
            options,
            nats,
            services: BTreeMap::new(),
            ingress_port,
            ingress,
        };
        fleet.nats.start().await?;
        for (service, port) in ports {
            fleet.spawn(service, port)?;
        }
        for service in Service::ALL {
            fleet.wait_ready(service).await?;
        }
        Ok(fleet)
    }

    /// `http://127.0.0.1:<ingress>` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ingress_port)
    }

    /// The MongoDB database a service of this fleet uses.
    pub fn database(&self, service: Service) -> String {
        format!("e2e_{}_{}", self.id, service.name())
    }

    /// A database of this fleet's that no service uses, for a test's (or the benchmark's) own data.
    pub fn scratch_database(&self, name: &str) -> String {
        format!("e2e_{}_scratch_{name}", self.id)
    }

    /// Where the service binaries this fleet runs come from.
    pub fn binary_dir(&self) -> PathBuf {
        binary_dir()
    }

    /// The MongoDB server every service of the fleet uses.
    pub fn mongo_uri(&self) -> &'static str {
        MONGO.as_str()
    }

    pub async fn mongo(&self, service: Service) -> anyhow::Result<mongodb::Database> {
        let client = mongodb::Client::with_uri_str(MONGO.as_str()).await?;
        Ok(client.database(&self.database(service)))
    }

    /// The fleet's event bus (its NATS server, its events prefix), to see what the services'
    /// listeners have handled.
    pub async fn event_bus(&self) -> anyhow::Result<EventBus> {
        EventBus::connect(&NatsConfig {
            url: self.nats.url(),
            client_name: "e2e-tests".into(),
            events_prefix: Some(self.events_prefix()),
        })
        .await
    }

    fn events_prefix(&self) -> String {
        format!("e2e_{}", self.id)
    }

    /// kill -9 the service.
    pub fn kill(&mut self, service: Service) {
        if let Some(running) = self.services.get_mut(&service) {
            running.process.kill();
        }
    }

    /// Starts the service again (after `kill`) and waits until it is ready.
    pub async fn restart(&mut self, service: Service) -> anyhow::Result<()> {
        let port = self
            .services
            .get(&service)
            .map(|running| running.port)
            .context("unknown service")?;
        self.kill(service);
        self.spawn(service, port)?;
        self.wait_ready(service).await
    }

    /// kill -9 every NATS server.
    pub fn kill_nats(&mut self) {
        self.nats.kill();
    }

    /// kill -9 one server of a NATS cluster, by the name JetStream reports (a stream's leader).
    pub fn kill_nats_node(&mut self, name: &str) -> anyhow::Result<()> {
        self.nats.kill_node(name)
    }

    /// Starts the NATS servers again on the same ports and stores (after `kill_nats`).
    pub async fn restart_nats(&mut self) -> anyhow::Result<()> {
        self.kill_nats();
        self.nats.start().await
    }

    /// The resident memory of a service's process, in KiB (from /proc).
    pub fn rss_kib(&self, service: Service) -> Option<u64> {
        let pid = self.services.get(&service)?.process.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The recent log lines of every process, to explain a failed assertion.
    pub fn logs(&self) -> String {
        self.services
            .values()
            .map(|running| running.process.log_tail())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn spawn(&mut self, service: Service, port: u16) -> anyhow::Result<()> {
        let name = service.name();
        let binary = binary_dir().join(name);
        if !binary.exists() {
            bail!(
                "{} is missing: run `cargo build --workspace --bins` first",
                binary.display()
            );
        }
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("JWT_KEY", JWT_KEY)
            .env("SECURE_COOKIES", "false")
            .env(
                "MONGO_URI",
                format!("{}/{}", *MONGO, self.database(service)),
            )
            .env("NATS_URL", self.nats.url())
            .env(
                "EVENTS_STREAM_REPLICAS",
                self.options.nats_nodes.max(1).to_string(),
            )
            .env("NATS_CLIENT_NAME", format!("{name}-e2e"))
            .env("EVENTS_PREFIX", self.events_prefix())
            .env("REDIS_URL", REDIS.as_str())
            .env("STRIPE_KEY", "sk_test_e2e")
            // Card payments on, as scripts/fleet.sh runs them: every route of the API is served.
            .env("STRIPE_WEBHOOK_SECRET", "whsec_e2e")
            .env(
                "STRIPE_API_BASE",
                std::env::var("TEST_STRIPE_API_BASE")
                    .unwrap_or_else(|_| "http://127.0.0.1:12111".into()),
            )
            .env(
                "ORDER_EXPIRATION_SECONDS",
                self.options.order_expiration.as_secs().max(1).to_string(),
            );
        if let Some(endpoint) = &self.options.otlp_endpoint {
            // Batches leave every 100 ms, so a test waits for spans no longer than it must.
            command
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
                .env("OTEL_BSP_SCHEDULE_DELAY", "100");
        }
        let process = Process::spawn(name, command, &self.dir.join(format!("logs/{name}.log")))?;
        self.services.insert(service, Running { port, process });
        Ok(())
    }

    async fn wait_ready(&mut self, service: Service) -> anyhow::Result<()> {
        let port = self
            .services
            .get(&service)
            .map(|running| running.port)
            .context("unknown service")?;
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/readyz");
        // `Some(true)`: ready; `Some(false)`: the process exited, no point waiting longer.
        let ready = poll::until(
            Duration::from_secs(60),
            Duration::from_millis(100),
            async || {
                let answer = http.get(&url).timeout(Duration::from_secs(2)).send().await;
                if answer.is_ok_and(|response| response.status().is_success()) {
                    return Some(true);
                }
                let exited = self
                    .services
                    .get_mut(&service)
                    .is_some_and(|running| running.process.has_exited());
                exited.then_some(false)
            },
        )
        .await;
        if ready != Some(true) {
            bail!("{} did not become ready\n{}", service.name(), self.logs());
        }
        Ok(())
    }
}

impl Drop for Fleet {
    /// Leaves nothing running: the services and NATS are killed, nginx is stopped with its own
    /// `-s quit`; each stop kills what is left of the process's group and checks none survived.
    /// Then the fleet's databases and its expiration jobs in Redis go too.
    fn drop(&mut self) {
        for running in self.services.values_mut() {
            running.process.kill();
        }
        self.ingress.stop();
        self.nats.kill();
        if let Err(err) = drop_databases(&self.id) {
            eprintln!(
                "the fleet's databases (e2e_{}_*) were not all dropped: {err:#}",
                self.id
            );
        }
        if let Err(err) = remove_redis_namespace(&self.events_prefix()) {
            eprintln!(
                "the fleet's expiration jobs ({}:*) were not all removed from Redis: {err:#}",
                self.events_prefix()
            );
        }
    }
}

/// Removes what the fleet's expiration service kept in Redis (its namespace is the events
/// prefix): every order leaves a job and an idempotency key kept for days, and a few benchmark
/// runs left 47,000 keys and 248 queues behind.
fn remove_redis_namespace(namespace: &str) -> anyhow::Result<()> {
    Ok(expiration::scheduler::remove_namespace(
        REDIS.as_str(),
        namespace,
    )?)
}

/// The shape of every database a fleet names (`Fleet::database`, `Fleet::scratch_database`):
/// `e2e_`, the fleet's id (12 lowercase hex digits), `_` and the rest.
pub fn is_fleet_database(name: &str) -> bool {
    name.strip_prefix("e2e_")
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(id, rest)| is_fleet_id(id) && !rest.is_empty())
}

/// The shape of a fleet's events prefix, which is also its Redis namespace: `e2e_` and its id.
pub fn is_fleet_events_prefix(name: &str) -> bool {
    name.strip_prefix("e2e_").is_some_and(is_fleet_id)
}

fn is_fleet_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Drops the databases of fleet `id`, its services' and the scratch ones alike. Nothing else
/// would: they piled up by the thousand, and FerretDB serves every command slower with each
/// (a `find_one` about 20 % slower with 1,200 of them). `Drop` cannot await, and may run inside
/// a runtime that must not be blocked, so the drops run on a thread of their own.
fn drop_databases(id: &str) -> anyhow::Result<()> {
    let prefix = format!("e2e_{id}_");
    let dropping = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let mut options = mongodb::options::ClientOptions::parse(MONGO.as_str()).await?;
            // A test that stopped the database must not make its fleet's drop hang.
            options.server_selection_timeout = Some(Duration::from_secs(5));
            let client = mongodb::Client::with_options(options)?;
            for name in client.list_database_names().await? {
                if name.starts_with(&prefix) {
                    client.database(&name).drop().await?;
                }
            }
            anyhow::Ok(())
        })
    });
    dropping
        .join()
        .map_err(|_| anyhow::anyhow!("the thread dropping them panicked"))?
}

/// nginx: a master and its worker processes. Killing the master alone orphans the workers
/// (still listening), so it is stopped with its own `-s quit`.
struct Ingress {
    process: Process,
    prefix: PathBuf,
    conf: PathBuf,
}

impl Ingress {
    fn start(dir: &Path, conf: PathBuf) -> anyhow::Result<Self> {
        let prefix = dir.join("nginx");
        let mut command = nginx(&prefix, &conf);
        command.args(["-g", "daemon off;"]);
        let process = Process::spawn("nginx", command, &dir.join("logs/nginx.log"))?;
        Ok(Self {
            process,
            prefix,
            conf,
        })
    }

    fn stop(&mut self) {
        let mut quit = nginx(&self.prefix, &self.conf);
        quit.args(["-s", "quit"]);
        self.process.stop_with(quit);
    }
}

/// `nginx` on this fleet's prefix and configuration (which names its pid file).
fn nginx(prefix: &Path, conf: &Path) -> Command {
    let mut command = Command::new("nginx");
    command.arg("-p").arg(prefix).arg("-c").arg(conf);
    command
}

fn start_ingress(dir: &Path, port: u16, ports: &BTreeMap<Service, u16>) -> anyhow::Result<Ingress> {
    let template =
        std::fs::read_to_string(workspace_root().join("infra/local/nginx.conf.template"))?;
    let port_of = |service| ports.get(&service).copied().unwrap_or_default().to_string();
    let conf = template
        .replace("@STATE@", &dir.display().to_string())
        .replace("@INGRESS_PORT@", &port.to_string())
        .replace("@AUTH_PORT@", &port_of(Service::Auth))
        .replace("@TICKETS_PORT@", &port_of(Service::Tickets))
        .replace("@ORDERS_PORT@", &port_of(Service::Orders))
        .replace("@PAYMENTS_PORT@", &port_of(Service::Payments))
        // No web client in these tests: `/` answers 502.
        .replace("@CLIENT_PORT@", &free_port()?.to_string());
    let conf_path = dir.join("nginx/nginx.conf");
    std::fs::write(&conf_path, conf)?;
    Ingress::start(dir, conf_path)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the service binaries are: `TICKETING_BIN_DIR` (the benchmark points it at a release
/// build), else the debug build of this workspace.
pub(crate) fn binary_dir() -> PathBuf {
    std::env::var_os("TICKETING_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug"))
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A Go-installed tool: $GOBIN, $GOPATH/bin or ~/go/bin, as scripts/backing-services.sh installs them.
pub(crate) fn go_binary(name: &str) -> anyhow::Result<PathBuf> {
    let candidates = [
        std::env::var_os("GOBIN").map(PathBuf::from),
        std::env::var_os("GOPATH").map(|path| PathBuf::from(path).join("bin")),
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join("go/bin")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|dir| dir.join(name))
        .find(|path| path.exists())
        .with_context(|| format!("{name} not found: run scripts/backing-services.sh up"))
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
