//! The binary refuses to start on bad configuration and names the variable.

use std::process::{Command, Output};

fn run_expiration(env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_expiration"))
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the expiration binary runs")
}

fn refusal(output: &Output) -> String {
    assert!(!output.status.success(), "expiration must refuse to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const NATS: (&str, &str) = ("NATS_URL", "nats://127.0.0.1:4222");

#[test]
fn without_nats_url_or_redis_url_it_names_both() {
    let stderr = refusal(&run_expiration(&[]));
    assert!(stderr.contains("NATS_URL must be set"), "{stderr}");
    assert!(stderr.contains("REDIS_URL must be set"), "{stderr}");
}

#[test]
fn without_redis_url_it_names_it() {
    let stderr = refusal(&run_expiration(&[NATS]));
    assert!(stderr.contains("REDIS_URL must be set"), "{stderr}");
    assert!(!stderr.contains("NATS_URL"), "{stderr}");
}

#[test]
fn a_redis_url_that_is_not_one_is_refused() {
    let stderr = refusal(&run_expiration(&[
        NATS,
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("PORT", "eighty"),
    ]));
    assert!(stderr.contains("REDIS_URL is invalid"), "{stderr}");
    assert!(stderr.contains("PORT is invalid"), "{stderr}");
}

#[test]
fn an_unreachable_redis_stops_the_start_and_says_so() {
    let stderr = refusal(&run_expiration(&[
        NATS,
        ("REDIS_URL", "redis://127.0.0.1:1"),
        ("PORT", "0"),
    ]));
    assert!(
        stderr.contains("connecting to Redis at redis://127.0.0.1:1"),
        "{stderr}"
    );
}
