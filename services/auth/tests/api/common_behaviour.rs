//! What every service does the same way, checked here on auth: health probes and normalized errors.

use serde_json::{Value, json};

use crate::helpers::{errors_of, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.api.get(app.url("/healthz")).send().await.expect("sent");
    assert_eq!(health.status(), 200);
    let ready = app.api.get(app.url("/readyz")).send().await.expect("sent");
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.expect("json"),
        json!({ "status": "ready" })
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_normalized_404() {
    let app = spawn_app().await;
    let response = app
        .api
        .get(app.url("/api/users/nothing-here"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not Found" }])
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_normalized_405() {
    let app = spawn_app().await;
    let response = app
        .api
        .get(app.url("/api/users/signup"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 405);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Method Not Allowed" }])
    );
}

#[tokio::test]
async fn malformed_json_is_a_normalized_400() {
    let app = spawn_app().await;
    let response = app
        .api
        .post(app.url("/api/users/signup"))
        .header("content-type", "application/json")
        .body(r#"{"email": "a@b.co", "password": "#)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Malformed JSON in request body" }])
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_clearly() {
    let app = spawn_app().await;
    let response = app
        .api
        .post(app.url("/api/users/signup"))
        .body("email=a@b.co")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 415);
    let errors = errors_of(response).await;
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("application/json")),
        "{errors}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app.api.get(app.url("/healthz")).send().await.expect("sent");
    assert!(response.headers().contains_key("x-request-id"));
    let response = app
        .api
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me")
    );
}
