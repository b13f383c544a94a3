//! The tickets service's settings, read from the environment (DESIGN.md §6).

use ticketing_common::config::{ConfigErrors, HttpConfig, MongoConfig, NatsConfig, SessionConfig};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpConfig,
    pub session: SessionConfig,
    pub mongo: MongoConfig,
    pub nats: NatsConfig,
}

impl Settings {
    /// Reads every variable and reports every problem, not just the first.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        match (
            HttpConfig::from_env(),
            SessionConfig::from_env(),
            MongoConfig::from_env(),
            NatsConfig::from_env("tickets"),
        ) {
            (Ok(http), Ok(session), Ok(mongo), Ok(nats)) => Ok(Self {
                http,
                session,
                mongo,
                nats,
            }),
            (http, session, mongo, nats) => {
                Err([http.err(), session.err(), mongo.err(), nats.err()]
                    .into_iter()
                    .flatten()
                    .collect())
            }
        }
    }
}
