use crate::helpers::spawn_app;

#[tokio::test]
async fn it_is_alive_and_ready_when_redis_and_nats_answer() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();

    let health = client.get(app.url("/healthz")).send().await.expect("sent");
    assert_eq!(health.status(), 200);

    let ready = client.get(app.url("/readyz")).send().await.expect("sent");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");

    let other = client
        .get(app.url("/api/orders"))
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status(), 404, "no API besides the probes");
}
