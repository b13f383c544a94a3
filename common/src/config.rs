//! Configuration from the environment (DESIGN.md §6). Every reader fails fast with a message that
//! names the variable, so a misconfigured pod says why it will not start.

use std::{fmt, str::FromStr, time::Duration};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Every problem found in the environment at once, so one restart fixes them all.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  - "))]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl FromIterator<ConfigError> for ConfigErrors {
    fn from_iter<I: IntoIterator<Item = ConfigError>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// A non-empty variable, or `None` when unset or blank.
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::Missing(name))
}

pub fn parse_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|err: T::Err| ConfigError::Invalid {
                name,
                reason: format!("{raw:?}: {err}"),
            }),
    }
}

pub fn flag_or(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match optional(name).map(|raw| raw.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(raw) => match raw.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!("{raw:?} is not a boolean (true/false)"),
            }),
        },
    }
}

pub fn seconds_or(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    let seconds: u64 = parse_or(name, default)?;
    if seconds == 0 {
        return Err(ConfigError::Invalid {
            name,
            reason: "must be at least 1 second".into(),
        });
    }
    Ok(Duration::from_secs(seconds))
}

/// A URL without the credentials it may carry (`scheme://user:secret@host/…` →
/// `scheme://***@host/…`), for logs and messages.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Where the HTTP server listens. `PORT` 0 asks the OS for a free port (tests).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub host: String,
    pub port: u16,
}

impl HttpConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            host: optional("HOST").unwrap_or_else(|| "0.0.0.0".into()),
            port: parse_or("PORT", 3000)?,
        })
    }
}

/// The secret that signs session tokens. At least 32 bytes: HS256 with a shorter key is guessable.
#[derive(Clone)]
pub struct JwtKey(String);

impl JwtKey {
    pub const MIN_LEN: usize = 32;

    pub fn parse(raw: String) -> Result<Self, ConfigError> {
        if raw.len() < Self::MIN_LEN {
            return Err(ConfigError::Invalid {
                name: "JWT_KEY",
                reason: format!("must be at least {} bytes long", Self::MIN_LEN),
            });
        }
        Ok(Self(raw))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey(<redacted>)")
    }
}

/// How sessions are signed and how long they live (DESIGN.md §3).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub jwt_key: JwtKey,
    pub ttl: Duration,
    pub secure_cookies: bool,
}

impl SessionConfig {
    pub const DEFAULT_TTL_SECONDS: u64 = 15 * 60;

    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            jwt_key: JwtKey::parse(required("JWT_KEY")?)?,
            ttl: seconds_or("SESSION_TTL_SECONDS", Self::DEFAULT_TTL_SECONDS)?,
            secure_cookies: flag_or("SECURE_COOKIES", true)?,
        })
    }
}

/// The service's own MongoDB database: the path of `MONGO_URI` names it
/// (`mongodb://auth-mongo-srv:27017/auth`).
#[derive(Debug, Clone)]
pub struct MongoConfig {
    pub uri: String,
    pub database: String,
}

impl MongoConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(required("MONGO_URI")?)
    }

    pub fn parse(uri: String) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            name: "MONGO_URI",
            reason: reason.to_owned(),
        };
        let rest = uri
            .strip_prefix("mongodb://")
            .or_else(|| uri.strip_prefix("mongodb+srv://"))
            .ok_or_else(|| invalid("must start with mongodb:// or mongodb+srv://"))?;
        let database = rest
            .split_once('/')
            .map(|(_, path)| path.split('?').next().unwrap_or_default())
            .filter(|name| !name.is_empty())
            .ok_or_else(|| invalid("must name the database, e.g. mongodb://host:27017/auth"))?;
        if database.contains(['/', '\\', '.', ' ', '"', '$']) {
            return Err(invalid(
                "the database name may not contain / \\ . space \" or $",
            ));
        }
        Ok(Self {
            database: database.to_owned(),
            uri,
        })
    }
}

/// The NATS connection and the optional prefix that isolates one fleet's (or one test's) events.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    pub url: String,
    pub client_name: String,
    pub events_prefix: Option<String>,
}

impl NatsConfig {
    pub fn from_env(service: &str) -> Result<Self, ConfigError> {
        let events_prefix = optional("EVENTS_PREFIX").map(|raw| raw.trim().to_owned());
        if let Some(prefix) = &events_prefix {
            Self::check_prefix(prefix)?;
        }
        Ok(Self {
            url: required("NATS_URL")?,
            client_name: optional("NATS_CLIENT_NAME").unwrap_or_else(|| service.to_owned()),
            events_prefix,
        })
    }

    /// A prefix becomes part of subject and stream names, so it is kept to `[A-Za-z0-9_-]`.
    pub fn check_prefix(prefix: &str) -> Result<(), ConfigError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= 48
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(())
        } else {
            Err(ConfigError::Invalid {
                name: "EVENTS_PREFIX",
                reason: format!("{prefix:?} must be 1-48 characters of A-Z, a-z, 0-9, _ or -"),
            })
        }
    }
}

/// How the one event stream is kept (DESIGN.md §4). The service that starts applies it to the
/// stream (create or update), so every replica of every service must be given the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Copies of every event JetStream keeps (`EVENTS_STREAM_REPLICAS`): 1 on a single NATS
    /// server, 3 on a three-node JetStream cluster, so losing one node loses nothing.
    pub replicas: usize,
}

impl StreamConfig {
    pub const DEFAULT_REPLICAS: usize = 1;
    /// JetStream's own limit.
    pub const MAX_REPLICAS: usize = 5;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(parse_or("EVENTS_STREAM_REPLICAS", Self::DEFAULT_REPLICAS)?)
    }

    pub fn new(replicas: usize) -> Result<Self, ConfigError> {
        if (1..=Self::MAX_REPLICAS).contains(&replicas) {
            Ok(Self { replicas })
        } else {
            Err(ConfigError::Invalid {
                name: "EVENTS_STREAM_REPLICAS",
                reason: format!("{replicas} is not between 1 and {}", Self::MAX_REPLICAS),
            })
        }
    }
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            replicas: Self::DEFAULT_REPLICAS,
        }
    }
}

/// How every event listener of the service runs (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsConfig {
    /// Events one listener handles at once (`EVENT_CONCURRENCY`). Events of one entity still
    /// go one after another; this bounds how many entities progress together.
    pub concurrency: usize,
}

impl EventsConfig {
    pub const DEFAULT_CONCURRENCY: usize = 32;
    /// Every held event ties up a slot of the consumer's `max_ack_pending`, shared by all
    /// replicas: past this a replica would hoard work the others could do.
    pub const MAX_CONCURRENCY: usize = 1_024;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(parse_or("EVENT_CONCURRENCY", Self::DEFAULT_CONCURRENCY)?)
    }

    pub fn new(concurrency: usize) -> Result<Self, ConfigError> {
        if (1..=Self::MAX_CONCURRENCY).contains(&concurrency) {
            Ok(Self { concurrency })
        } else {
            Err(ConfigError::Invalid {
                name: "EVENT_CONCURRENCY",
                reason: format!(
                    "{concurrency} is not between 1 and {}",
                    Self::MAX_CONCURRENCY
                ),
            })
        }
    }
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            concurrency: Self::DEFAULT_CONCURRENCY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_jwt_key_is_rejected_and_named() {
        let err = JwtKey::parse("short".into()).expect_err("a 5-byte key must be refused");
        assert!(err.to_string().contains("JWT_KEY"));
        assert!(JwtKey::parse("k".repeat(32)).is_ok());
    }

    #[test]
    fn mongo_uri_must_name_a_database() {
        let config = MongoConfig::parse("mongodb://db:27017/auth?retryWrites=false".into())
            .expect("valid uri");
        assert_eq!(config.database, "auth");
        for bad in [
            "mongodb://db:27017",
            "mongodb://db:27017/",
            "http://db/auth",
            "mongodb://db/a.b",
        ] {
            assert!(
                MongoConfig::parse(bad.into()).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn event_concurrency_must_be_in_range_and_named() {
        assert_eq!(EventsConfig::new(8).map(|c| c.concurrency), Ok(8));
        for bad in [0, EventsConfig::MAX_CONCURRENCY + 1] {
            let err = EventsConfig::new(bad).expect_err("out of range");
            assert!(err.to_string().contains("EVENT_CONCURRENCY"), "{err}");
        }
    }

    #[test]
    fn stream_replicas_must_be_in_range_and_named() {
        assert_eq!(StreamConfig::new(3).map(|c| c.replicas), Ok(3));
        assert_eq!(StreamConfig::default().replicas, 1);
        for bad in [0, StreamConfig::MAX_REPLICAS + 1] {
            let err = StreamConfig::new(bad).expect_err("out of range");
            assert!(err.to_string().contains("EVENTS_STREAM_REPLICAS"), "{err}");
        }
    }

    #[test]
    fn credentials_are_redacted_from_urls() {
        assert_eq!(
            redact("mongodb://u:secret@db:27017/auth"),
            "mongodb://***@db:27017/auth"
        );
        assert_eq!(redact("nats://t0ken@nats:4222"), "nats://***@nats:4222");
        assert_eq!(redact("mongodb://db:27017/auth"), "mongodb://db:27017/auth");
        assert_eq!(redact("no scheme@host"), "no scheme@host");
    }

    #[test]
    fn jwt_key_debug_does_not_leak_the_secret() {
        let key = JwtKey::parse("s".repeat(40)).expect("valid key");
        assert!(!format!("{key:?}").contains("sss"));
    }
}
