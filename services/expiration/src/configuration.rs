//! The expiration worker's settings, read from the environment (DESIGN.md §6).

use std::fmt;

use ticketing_common::config::{ConfigError, ConfigErrors, HttpConfig, NatsConfig, required};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpConfig,
    pub nats: NatsConfig,
    pub redis: RedisConfig,
}

impl Settings {
    /// Reads every variable and reports every problem, not just the first.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        match (
            HttpConfig::from_env(),
            NatsConfig::from_env("expiration"),
            RedisConfig::url_from_env(),
        ) {
            (Ok(http), Ok(nats), Ok(redis_url)) => Ok(Self {
                redis: RedisConfig::new(redis_url, nats.events_prefix.as_deref()),
                http,
                nats,
            }),
            (http, nats, redis) => Err([http.err(), nats.err(), redis.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

/// Where the jobs live.
#[derive(Clone)]
pub struct RedisConfig {
    pub url: String,
    /// Every job key starts with it. It follows the events prefix, so two fleets (or two
    /// tests) sharing one Redis never see each other's jobs.
    pub namespace: String,
}

impl RedisConfig {
    /// The namespace when no events prefix is set.
    pub const DEFAULT_NAMESPACE: &'static str = "ticketing";

    pub fn new(url: String, events_prefix: Option<&str>) -> Self {
        Self {
            url,
            namespace: events_prefix.unwrap_or(Self::DEFAULT_NAMESPACE).to_owned(),
        }
    }

    /// `REDIS_URL`, checked now so a typo stops the start rather than the first job.
    pub fn url_from_env() -> Result<String, ConfigError> {
        Self::check_url(required("REDIS_URL")?)
    }

    pub fn check_url(url: String) -> Result<String, ConfigError> {
        match redis::Client::open(url.as_str()) {
            Ok(_) => Ok(url),
            Err(err) => Err(ConfigError::Invalid {
                name: "REDIS_URL",
                reason: format!("{}: {err}", redact(&url)),
            }),
        }
    }

    /// The URL without its password, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// `redis://user:secret@host:6379/0` → `redis://***@host:6379/0`.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_follows_the_events_prefix() {
        let url = "redis://127.0.0.1:6379".to_owned();
        assert_eq!(RedisConfig::new(url.clone(), Some("t_1")).namespace, "t_1");
        assert_eq!(RedisConfig::new(url, None).namespace, "ticketing");
    }

    #[test]
    fn a_url_that_is_not_redis_is_refused_and_named() {
        let err = RedisConfig::check_url("http://127.0.0.1:6379".into())
            .expect_err("http is not a Redis scheme");
        assert!(err.to_string().contains("REDIS_URL is invalid"), "{err}");
        assert!(RedisConfig::check_url("redis://127.0.0.1:6379/0".into()).is_ok());
    }

    #[test]
    fn the_password_never_shows() {
        let config = RedisConfig::new("redis://user:s3cret@redis:6379/0".into(), None);
        assert_eq!(config.redacted_url(), "redis://***@redis:6379/0");
        assert!(!format!("{config:?}").contains("s3cret"));
        let err = RedisConfig::check_url("redi://user:s3cret@redis".into()).expect_err("bad");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
