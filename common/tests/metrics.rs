//! The request metrics and `/metrics` of every service, through the real HTTP server: a request
//! is counted and timed under its route template, method and status, whatever answered it (the
//! route, the 405 fallback, a panic), and what matched no route under one fixed label.

use axum::{Router, routing::get};
use ticketing_common::{
    metrics::{self, catalogue},
    server::{self, Probes},
    telemetry,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `routes` the way every service does, on a random port; returns its base URL.
async fn spawn_app(routes: Router) -> (String, CancellationToken) {
    telemetry::init_for_tests();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = format!("http://{}", listener.local_addr().expect("an address"));
    let stop = CancellationToken::new();
    tokio::spawn(server::serve(
        listener,
        server::app(routes, Probes::default()),
        stop.clone(),
    ));
    (address, stop)
}

fn requests(method: &str, route: &str, status: &str) -> Option<f64> {
    metrics::sample(
        catalogue::HTTP_REQUESTS,
        &[("method", method), ("route", route), ("status", status)],
    )
}

#[tokio::test]
async fn requests_are_counted_and_timed_by_route_template_method_and_status() {
    // A template of its own: other tests of this process count their requests too.
    let base = format!("/api/m{}", uuid::Uuid::new_v4().simple());
    let template = format!("{base}/{{id}}");
    let panicking = format!("{base}/boom");
    let routes = Router::new()
        .route(&template, get(|| async { "ok" }))
        .route(
            &panicking,
            get(|| async {
                let fail = true;
                if fail {
                    panic!("a handler bug");
                }
                "unreachable"
            }),
        );
    let (address, stop) = spawn_app(routes).await;
    let client = reqwest::Client::new();

    for id in ["64b0f7a2c1d3e4f5a6b7c8d9", "64b0f7a2c1d3e4f5a6b7c8da"] {
        let response = client
            .get(format!("{address}{base}/{id}"))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 200);
    }
    let response = client
        .delete(format!("{address}{base}/64b0f7a2c1d3e4f5a6b7c8d9"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 405);
    let response = client
        .get(format!("{address}{panicking}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 500);

    assert_eq!(requests("GET", &template, "200"), Some(2.0));
    assert_eq!(requests("DELETE", &template, "405"), Some(1.0));
    assert_eq!(requests("GET", &panicking, "500"), Some(1.0));
    assert_eq!(
        metrics::sample(
            &format!("{}_count", catalogue::HTTP_REQUEST_DURATION),
            &[("method", "GET"), ("route", &template), ("status", "200")],
        ),
        Some(2.0),
        "the latency histogram has a sample per request"
    );
    assert!(
        metrics::sample(
            &format!("{}_bucket", catalogue::HTTP_REQUEST_DURATION),
            &[("route", &template), ("status", "200"), ("le", "+Inf")],
        )
        .is_some_and(|samples| samples >= 2.0),
        "rendered as a Prometheus histogram with buckets"
    );
    let text = metrics::render();
    assert!(
        !text.contains("64b0f7a2c1d3e4f5a6b7c8d9"),
        "raw paths never become labels"
    );
    stop.cancel();
}

#[tokio::test]
async fn metrics_are_served_on_the_service_port_and_unmatched_requests_share_one_label() {
    let (address, stop) = spawn_app(Router::new()).await;
    let client = reqwest::Client::new();
    let before = requests("GET", "/healthz", "200").unwrap_or(0.0);
    let unmatched = requests("GET", metrics::http::UNMATCHED, "404").unwrap_or(0.0);

    let healthz = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .expect("answered");
    assert_eq!(healthz.status(), 200);
    let nowhere = client
        .get(format!("{address}/nowhere/{}", uuid::Uuid::new_v4()))
        .send()
        .await
        .expect("answered");
    assert_eq!(nowhere.status(), 404);
    let scraped = client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("answered");
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/plain; version=0.0.4")),
        "Prometheus' text format"
    );
    let text = scraped.text().await.expect("a body");
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(text.contains("# HELP http_requests_total"), "{text}");

    // Other tests of this process count requests too: these only grow.
    assert!(requests("GET", "/healthz", "200").is_some_and(|now| now >= before + 1.0));
    assert!(
        requests("GET", metrics::http::UNMATCHED, "404").is_some_and(|now| now >= unmatched + 1.0)
    );
    stop.cancel();
}

/// The Grafana dashboard (`infra/grafana/ticketing-dashboard.json`) is valid JSON and every
/// figure of the catalogue appears in one of its queries, so a new figure cannot be forgotten.
#[test]
fn the_dashboard_shows_every_figure() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../infra/grafana/ticketing-dashboard.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard is there");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let queries: Vec<&str> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
        .filter_map(|target| target["expr"].as_str())
        .collect();
    for figure in catalogue::ALL {
        assert!(
            queries.iter().any(|query| query.contains(figure)),
            "no panel of the dashboard queries {figure}"
        );
    }
}
