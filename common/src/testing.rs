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
