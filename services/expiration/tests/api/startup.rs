//! The binary refuses to start on bad configuration and names the variable; dependencies that
//! do not answer yet are waited for instead.

use std::{
    process::{Command, Output},
    time::Duration,
};

use ticketing_common::testing;

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

/// Redis and NATS not there (yet) are no reason to exit: the binary answers `/healthz`, says on
/// `/readyz` that it is starting and what it waits for, and logs every attempt (the end-to-end
/// start-up test sees it through to ready).
#[tokio::test]
async fn unreachable_redis_and_nats_are_waited_for() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let log = std::env::temp_dir().join(format!("expiration-{}.log", uuid::Uuid::new_v4()));
    let out = std::fs::File::create(&log).expect("a log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_expiration"))
        .env_clear()
        .envs([
            // Nothing listens on port 1.
            ("NATS_URL", "nats://127.0.0.1:1"),
            ("REDIS_URL", "redis://127.0.0.1:1"),
            ("HOST", "127.0.0.1"),
            ("PORT", &port.to_string()),
            ("RUST_LOG", "info"),
            ("NO_COLOR", "1"),
        ])
        .stdout(out.try_clone().expect("log file"))
        .stderr(out)
        .spawn()
        .expect("the expiration binary runs");
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let alive = testing::eventually(Duration::from_secs(10), || async {
        let answer = client.get(url("/healthz")).send().await.ok()?;
        (answer.status() == 200).then_some(())
    })
    .await;
    let logged = testing::eventually(Duration::from_secs(10), || async {
        let text = std::fs::read_to_string(&log).ok()?;
        (text.contains("waiting for Redis at redis://127.0.0.1:1")
            && text.contains("waiting for NATS at nats://127.0.0.1:1"))
        .then_some(())
    })
    .await;
    let ready = client.get(url("/readyz")).send().await.expect("sent");
    let status = ready.status();
    let body: serde_json::Value = ready.json().await.expect("json");
    let running = child.try_wait().expect("status").is_none();
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);

    assert!(alive.is_some(), "/healthz must answer at once\n{text}");
    assert!(running, "it must not exit\n{text}");
    assert!(logged.is_some(), "each attempt is logged\n{text}");
    assert_eq!(status, 503, "{body}");
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|error| error["message"].as_str())
        .collect();
    assert_eq!(messages.first(), Some(&"Service is starting"), "{body}");
    assert!(
        messages.contains(&"Waiting for Redis at redis://127.0.0.1:1"),
        "{body}"
    );
    assert!(
        messages.contains(&"Waiting for NATS at nats://127.0.0.1:1"),
        "{body}"
    );
}
