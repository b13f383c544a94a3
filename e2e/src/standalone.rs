//! One service binary on its own, and backing services a test starts and stops itself: its own
//! `nats-server -js`, its own `redis-server`, and a TCP proxy in front of the shared FerretDB
//! (a MongoDB that can be "not there yet" or "gone" without touching the shared server). Each on
//! a free port, all stopped when dropped. The start-up tests use them to start a service before
//! its dependencies exist and to take those away while it runs.

use std::{
    net::TcpListener as StdListener,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail};
use ticketing_common::poll;
use tokio::{
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};

use crate::{
    fleet::{binary_dir, go_binary, target_dir},
    process::Process,
};

/// The shared FerretDB the project's scripts start.
pub const FERRETDB: &str = "127.0.0.1:27017";

/// A port nothing listens on (the OS's pick, released at once).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A directory of its own under the target directory, for logs and stores.
pub fn scratch_dir(name: &str) -> anyhow::Result<PathBuf> {
    let id = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let dir = target_dir().join("e2e").join(format!("{name}-{id}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A service binary (as `cargo build --workspace --bins` left it) with the environment given.
pub struct LoneService {
    name: String,
    port: u16,
    log: PathBuf,
    process: Process,
}

impl LoneService {
    pub fn spawn(name: &str, dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let binary = binary_dir().join(name);
        if !binary.exists() {
            bail!(
                "{} is missing: run `cargo build --workspace --bins` first",
                binary.display()
            );
        }
        let port = free_port()?;
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .envs(env.iter().map(|(key, value)| (key, value)));
        let process = Process::spawn(name, command, &log)?;
        Ok(Self {
            name: name.to_owned(),
            port,
            log,
            process,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    pub fn has_exited(&mut self) -> bool {
        self.process.has_exited()
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The end of its log, to explain a failed assertion.
    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }
}

/// `nats-server -js` on its own port and store; stopped (SIGKILL) and started again on both.
pub struct NatsServer {
    port: u16,
    dir: PathBuf,
    process: Option<Process>,
}

impl NatsServer {
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            port: free_port()?,
            dir: dir.to_owned(),
            process: None,
        })
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it and waits until it takes connections.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let mut command = Command::new(go_binary("nats-server")?);
        command
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.dir.join("nats"));
        self.process = Some(Process::spawn("nats", command, &self.dir.join("nats.log"))?);
        wait_for_port(self.port).await.context("NATS did not start")
    }

    pub fn stop(&mut self) {
        self.process = None;
    }
}

/// `redis-server` on its own port, keeping nothing on disk.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    process: Option<Process>,
}

impl RedisServer {
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            port: free_port()?,
            dir: dir.to_owned(),
            process: None,
        })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it and waits until it takes connections.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir);
        self.process = Some(Process::spawn(
            "redis",
            command,
            &self.dir.join("redis.log"),
        )?);
        wait_for_port(self.port)
            .await
            .context("Redis did not start")
    }

    pub fn stop(&mut self) {
        self.process = None;
    }
}

/// A TCP proxy from a port of its own to `upstream`. Stopping it closes the port and every
/// connection through it, as if the server behind had gone.
pub struct TcpProxy {
    port: u16,
    upstream: String,
    task: Option<JoinHandle<()>>,
}

impl TcpProxy {
    pub fn new(upstream: &str) -> anyhow::Result<Self> {
        Ok(Self {
            port: free_port()?,
            upstream: upstream.to_owned(),
            task: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Listens (from the moment it returns) and forwards every connection to the upstream.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .with_context(|| format!("binding the proxy to port {}", self.port))?;
        let upstream = self.upstream.clone();
        self.task = Some(tokio::spawn(async move {
            // Dropped with the task when the proxy stops, which closes every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }));
        Ok(())
    }

    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_for_port(port: u16) -> anyhow::Result<()> {
    poll::until(
        Duration::from_secs(20),
        Duration::from_millis(25),
        async || TcpStream::connect(("127.0.0.1", port)).await.ok().map(drop),
    )
    .await
    .with_context(|| format!("nothing listens on port {port} after 20 s"))
}
