//! The auth service's settings, read from the environment (DESIGN.md §6).

use ticketing_common::config::{
    self, ConfigError, ConfigErrors, HttpConfig, MongoConfig, SessionConfig,
};

use crate::{domain::HashCost, throttle::ThrottleConfig};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpConfig,
    pub session: SessionConfig,
    pub mongo: MongoConfig,
    pub hash_cost: HashCost,
    pub throttle: ThrottleConfig,
}

impl Settings {
    /// Reads every variable and reports every problem, not just the first.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        match (
            HttpConfig::from_env(),
            SessionConfig::from_env(),
            MongoConfig::from_env(),
            hash_cost_from_env(),
            ThrottleConfig::from_env(),
        ) {
            (Ok(http), Ok(session), Ok(mongo), Ok(hash_cost), Ok(throttle)) => Ok(Self {
                http,
                session,
                mongo,
                hash_cost,
                throttle,
            }),
            (http, session, mongo, hash_cost, throttle) => Err([
                http.err(),
                session.err(),
                mongo.err(),
                hash_cost.err(),
                throttle.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// `SCRYPT_LOG_N` lowers the hashing cost for tests; production keeps OWASP's default.
fn hash_cost_from_env() -> Result<HashCost, ConfigError> {
    let log_n = config::parse_or("SCRYPT_LOG_N", HashCost::OWASP.log_n())?;
    HashCost::new(log_n).map_err(|reason| ConfigError::Invalid {
        name: "SCRYPT_LOG_N",
        reason,
    })
}
