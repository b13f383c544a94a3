//! The binary refuses to start on bad configuration and names the variable.

use std::process::{Command, Output};

fn run_auth(env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auth"))
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the auth binary runs")
}

fn refusal(output: &Output) -> String {
    assert!(!output.status.success(), "auth must refuse to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const KEY: &str = "a-key-that-is-certainly-long-enough-32";

#[test]
fn without_jwt_key_or_mongo_uri_it_names_both() {
    let stderr = refusal(&run_auth(&[]));
    assert!(stderr.contains("JWT_KEY must be set"), "{stderr}");
    assert!(stderr.contains("MONGO_URI must be set"), "{stderr}");
}

#[test]
fn without_mongo_uri_it_names_it() {
    let stderr = refusal(&run_auth(&[("JWT_KEY", KEY)]));
    assert!(stderr.contains("MONGO_URI must be set"), "{stderr}");
    assert!(!stderr.contains("JWT_KEY"), "{stderr}");
}

#[test]
fn a_short_jwt_key_is_refused() {
    let stderr = refusal(&run_auth(&[
        ("JWT_KEY", "short"),
        ("MONGO_URI", "mongodb://127.0.0.1:27017/auth"),
    ]));
    assert!(
        stderr.contains("JWT_KEY is invalid: must be at least 32 bytes long"),
        "{stderr}"
    );
}

#[test]
fn bad_numbers_and_flags_are_named() {
    let stderr = refusal(&run_auth(&[
        ("JWT_KEY", KEY),
        ("MONGO_URI", "mongodb://127.0.0.1:27017/auth"),
        ("PORT", "eighty"),
        ("SECURE_COOKIES", "maybe"),
    ]));
    assert!(stderr.contains("PORT is invalid"), "{stderr}");
    assert!(stderr.contains("SECURE_COOKIES is invalid"), "{stderr}");
}
