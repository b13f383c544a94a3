//! Sign-in throttling: per account and per client address, shared by every replica, answered
//! with 429 and `Retry-After`, reset by a successful sign-in, never longer than one window.

use std::time::Duration;

use auth::throttle::ThrottleConfig;
use futures::future::join_all;
use reqwest::Response;
use serde_json::json;

use crate::helpers::{
    Options, PASSWORD, TestApp, client, errors_of, spawn_app, spawn_app_with, unique_email,
};

const WRONG: &str = "not the password at all";

async fn signin_from(app: &TestApp, address: &str, email: &str, password: &str) -> Response {
    client(false)
        .post(app.url("/api/users/signin"))
        .header("x-forwarded-for", format!("198.51.100.200, {address}"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("sent")
}

async fn assert_throttled(response: Response) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry_after >= 1);
    let errors = errors_of(response).await;
    assert_eq!(
        errors,
        json!([{ "message": format!("Too many attempts; try again in {retry_after} seconds") }])
    );
}

#[tokio::test]
async fn a_wrong_password_past_the_limit_is_throttled_even_with_the_right_one() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    for _ in 0..ThrottleConfig::DEFAULT.per_account {
        let response = app.signin(&email, WRONG).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            errors_of(response).await[0]["message"],
            "Invalid credentials"
        );
    }
    assert_throttled(app.signin(&email, WRONG).await).await;
    assert_throttled(app.signin(&email, PASSWORD).await).await;
}

#[tokio::test]
async fn unknown_emails_are_throttled_exactly_like_known_ones() {
    let app = spawn_app().await;
    let unknown = unique_email();
    for _ in 0..ThrottleConfig::DEFAULT.per_account {
        assert_eq!(app.signin(&unknown, WRONG).await.status(), 400);
    }
    assert_throttled(app.signin(&unknown, WRONG).await).await;
}

#[tokio::test]
async fn a_successful_sign_in_resets_the_accounts_count() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let limit = ThrottleConfig::DEFAULT.per_account;
    for _ in 0..limit - 1 {
        assert_eq!(app.signin(&email, WRONG).await.status(), 400);
    }
    assert_eq!(app.signin(&email, PASSWORD).await.status(), 200);
    for _ in 0..limit {
        assert_eq!(app.signin(&email, WRONG).await.status(), 400);
    }
    assert_throttled(app.signin(&email, WRONG).await).await;
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_throttled_and_others_are_not() {
    let app = spawn_app_with(Options {
        throttle: ThrottleConfig {
            per_address: 3,
            ..ThrottleConfig::DEFAULT
        },
        ..Options::default()
    })
    .await;
    for _ in 0..3 {
        let response = signin_from(&app, "203.0.113.9", &unique_email(), WRONG).await;
        assert_eq!(response.status(), 400);
    }
    assert_throttled(signin_from(&app, "203.0.113.9", &unique_email(), WRONG).await).await;
    // Another client, and the first hop a client wrote itself, change nothing for the others.
    let response = signin_from(&app, "203.0.113.10", &unique_email(), WRONG).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn replicas_share_the_count_and_racing_attempts_never_exceed_it() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let (other, _stop) = app.another_instance().await;
    let limit = ThrottleConfig::DEFAULT.per_account as usize;
    let attempts = (0..4 * limit).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            other.clone()
        };
        let email = email.clone();
        async move {
            client(false)
                .post(format!("{base}/api/users/signin"))
                .json(&json!({ "email": email, "password": WRONG }))
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    let refused = statuses.iter().filter(|s| **s == 400).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((refused, throttled), (limit, 3 * limit), "{statuses:?}");
}

#[tokio::test]
async fn a_throttle_ends_with_its_window() {
    let app = spawn_app_with(Options {
        throttle: ThrottleConfig {
            per_account: 1,
            window: Duration::from_secs(2),
            ..ThrottleConfig::DEFAULT
        },
        ..Options::default()
    })
    .await;
    let email = app.signed_in_user().await;
    // The first failure is refused; failing on, a second one inside a window is throttled
    // (two attempts may straddle a window's end, so it can take a few).
    assert_eq!(app.signin(&email, WRONG).await.status(), 400);
    let retry_after = loop {
        let response = app.signin(&email, WRONG).await;
        match response.status().as_u16() {
            400 => continue,
            429 => {
                break response.headers()["retry-after"]
                    .to_str()
                    .expect("text")
                    .parse::<u64>()
                    .expect("seconds");
            }
            other => panic!("a failed sign-in is refused or throttled, got {other}"),
        }
    };
    assert!(retry_after <= 2);
    // The window is the fact waited for: Retry-After says when it ends.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(app.signin(&email, PASSWORD).await.status(), 200);
}
