//! Helpers for the services' black-box tests (feature `testing`): every test gets its own
//! database and its own event prefix, so tests run in parallel without seeing each other.

use std::time::Duration;

use crate::config::{JwtKey, MongoConfig, SessionConfig};

/// The key every test app signs sessions with, so tests can forge tokens to probe the checks.
pub const TEST_JWT_KEY: &str = "test-jwt-key-that-is-at-least-32-bytes-long";

/// `name_<uuid>`: unique across concurrent tests and runs.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh database on the test MongoDB server (`TEST_MONGO_URI`, default the local FerretDB).
pub fn mongo_config() -> MongoConfig {
    MongoConfig {
        uri: std::env::var("TEST_MONGO_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into()),
        database: unique_name("test"),
    }
}

pub fn session_config(ttl: Duration, secure_cookies: bool) -> SessionConfig {
    SessionConfig {
        jwt_key: jwt_key(),
        ttl,
        secure_cookies,
    }
}

pub fn jwt_key() -> JwtKey {
    match JwtKey::parse(TEST_JWT_KEY.to_owned()) {
        Ok(key) => key,
        Err(err) => unreachable!("the test key is long enough: {err}"),
    }
}

/// The test NATS server (`TEST_NATS_URL`, default the local one) with a fresh events prefix.
pub fn nats_config() -> crate::config::NatsConfig {
    crate::config::NatsConfig {
        url: std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
        client_name: "ticketing-tests".into(),
        events_prefix: Some(unique_name("t")),
    }
}

/// Polls `check` until it yields a value or `deadline` passes: assertions about asynchronous
/// effects wait for them rather than sleeping a fixed time.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
