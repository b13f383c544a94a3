//! The fleet's NATS: one `nats-server` with JetStream, or a cluster of them (the `gke` profile's
//! shape: three nodes, the stream replicated on each), each node on free local ports with its own
//! store, so a test can kill one node, or all, and start them again.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::Context;
use ticketing_common::poll;

use crate::{
    fleet::{free_port, go_binary},
    process::Process,
};

struct Node {
    name: String,
    client_port: u16,
    cluster_port: u16,
    store: PathBuf,
    log: PathBuf,
    process: Option<Process>,
}

pub struct Nats {
    cluster: String,
    nodes: Vec<Node>,
}

impl Nats {
    /// `nodes` servers (1 for a single server); not started yet.
    pub fn new(dir: &Path, nodes: usize) -> anyhow::Result<Self> {
        let nodes = (0..nodes.max(1))
            .map(|i| {
                Ok(Node {
                    name: format!("nats-{i}"),
                    client_port: free_port()?,
                    cluster_port: free_port()?,
                    store: dir.join(format!("nats-{i}")),
                    log: dir.join(format!("logs/nats-{i}.log")),
                    process: None,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            cluster: format!("e2e-{}", uuid::Uuid::new_v4().simple()),
            nodes,
        })
    }

    /// Every node's client URL, comma-separated, as `NATS_URL` takes a cluster.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("nats://127.0.0.1:{}", node.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts every node that is not running and waits until each accepts connections.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let routes = self.routes();
        let clustered = self.nodes.len() > 1;
        for node in self.nodes.iter_mut().filter(|node| node.process.is_none()) {
            let mut command = Command::new(go_binary("nats-server")?);
            command
                .args(["-a", "127.0.0.1", "-p", &node.client_port.to_string()])
                .args(["-n", &node.name, "-js", "-sd"])
                .arg(&node.store);
            if clustered {
                command
                    .args(["--cluster_name", &self.cluster])
                    .args([
                        "--cluster",
                        &format!("nats://127.0.0.1:{}", node.cluster_port),
                    ])
                    .args(["--routes", &routes]);
            }
            node.process = Some(Process::spawn(&node.name, command, &node.log)?);
        }
        for node in &self.nodes {
            let port = node.client_port;
            poll::until(
                Duration::from_secs(20),
                Duration::from_millis(50),
                async || {
                    std::net::TcpStream::connect(("127.0.0.1", port))
                        .is_ok()
                        .then_some(())
                },
            )
            .await
            .with_context(|| format!("{} did not start within 20 s", node.name))?;
        }
        Ok(())
    }

    /// kill -9 one node, by the server name JetStream reports (e.g. a stream's leader).
    pub fn kill_node(&mut self, name: &str) -> anyhow::Result<()> {
        let node = self
            .nodes
            .iter_mut()
            .find(|node| node.name == name)
            .with_context(|| format!("no NATS node named {name}"))?;
        if let Some(mut process) = node.process.take() {
            process.kill();
        }
        Ok(())
    }

    /// kill -9 every node.
    pub fn kill(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut process) = node.process.take() {
                process.kill();
            }
        }
    }

    fn routes(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("nats://127.0.0.1:{}", node.cluster_port))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}
