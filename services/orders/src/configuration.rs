//! The orders service's settings, read from the environment (DESIGN.md §6).

use std::time::Duration;

use ticketing_common::config::{
    self, ConfigErrors, HttpConfig, MongoConfig, NatsConfig, SessionConfig,
};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpConfig,
    pub session: SessionConfig,
    pub mongo: MongoConfig,
    pub nats: NatsConfig,
    /// How long a new order holds its ticket before it expires.
    pub order_expiration: Duration,
}

impl Settings {
    pub const DEFAULT_EXPIRATION_SECONDS: u64 = 15 * 60;

    /// Reads every variable and reports every problem, not just the first.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        match (
            HttpConfig::from_env(),
            SessionConfig::from_env(),
            MongoConfig::from_env(),
            NatsConfig::from_env("orders"),
            config::seconds_or("ORDER_EXPIRATION_SECONDS", Self::DEFAULT_EXPIRATION_SECONDS),
        ) {
            (Ok(http), Ok(session), Ok(mongo), Ok(nats), Ok(order_expiration)) => Ok(Self {
                http,
                session,
                mongo,
                nats,
                order_expiration,
            }),
            (http, session, mongo, nats, expiration) => Err([
                http.err(),
                session.err(),
                mongo.err(),
                nats.err(),
                expiration.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}
