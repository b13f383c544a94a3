//! Builds the auth service from its settings; binds first so tests can ask for port 0.

use std::io;

use anyhow::Context;
use ticketing_common::{mongo, server, session::Sessions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    configuration::Settings, domain::PasswordHasher, routes, state::AppState, store::Users,
};

pub struct Application {
    port: u16,
    listener: TcpListener,
    router: axum::Router,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = mongo::connect(&settings.mongo, "auth").await?;
        let users = Users::init(&db).await?;
        let state = AppState {
            users,
            sessions: Sessions::new(&settings.session),
            hasher: PasswordHasher::new(settings.hash_cost),
        };
        let router = server::app(
            routes::router().with_state(state),
            server::Probes::new(vec![Box::new(db)]),
        );
        let address = (settings.http.host.as_str(), settings.http.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {}:{}", address.0, address.1))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            port,
            listener,
            router,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until(self, shutdown: CancellationToken) -> io::Result<()> {
        tracing::info!(port = self.port, "auth listening");
        server::serve(self.listener, self.router, shutdown).await
    }
}
