//! Prometheus metrics, written once for the fleet: the recorder, the figures every service keeps
//! ([`catalogue`]: their names, help texts, buckets and the one function that records each), the
//! HTTP middleware that counts and times every request by its route template ([`http`]), and
//! `GET /metrics`, which every service answers on its own port (see [`crate::server`]).
//!
//! `/metrics` is not routed through the ingress (it forwards `/api/...` and sends everything
//! else to the web client), so only what reaches a pod directly, Prometheus in the cluster,
//! reads it. The exporter is `metrics-exporter-prometheus` without its own HTTP listener: the
//! handle renders the text exposition format into the service's own router.
//!
//! The recorder is process-wide and installed once ([`install`]); a test process that starts
//! many services shares it, so a test asserts on the series of its own labels (its database,
//! events prefix or queue), never on a whole figure.

pub mod catalogue;
pub mod http;
#[cfg(feature = "testing")]
mod read;

use std::{sync::OnceLock, time::Duration};

use axum::{
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub use catalogue::{
    EventRetry, EventTermination, PaymentOutcome, consumer_state, event_handled, event_published,
    event_retried, event_terminated, expiration_fired, expiration_jobs_pending, insert_command,
    outbox_backlog, payment,
};
#[cfg(feature = "testing")]
pub use read::sample;

/// How often histogram samples are folded into their buckets between scrapes, so memory stays
/// bounded however rarely Prometheus comes (a scrape folds them too).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The content type of Prometheus' text exposition format.
const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder the first time it is called (later calls return the same
/// handle). Until it runs, recorded figures go nowhere: every service installs it when it binds
/// its port ([`crate::server::gated_app`]), before anything else is recorded.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = catalogue::with_buckets(PrometheusBuilder::new()).unwrap_or_else(|err| {
            tracing::warn!(error = %err, "histogram buckets rejected; histograms become summaries");
            PrometheusBuilder::new()
        });
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(err) = ::metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %err, "another metrics recorder is installed; /metrics stays empty");
        }
        catalogue::describe();
        keep_up(handle.clone());
        handle
    })
}

/// The figures in Prometheus' text format, as `/metrics` serves them.
pub fn render() -> String {
    install().render()
}

/// `GET /metrics`.
pub async fn serve() -> Response {
    ([(CONTENT_TYPE, EXPOSITION_CONTENT_TYPE)], render()).into_response()
}

/// A plain thread rather than a task: the recorder outlives any one runtime (tests run one per
/// test), and the work is a few microseconds every few seconds.
fn keep_up(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(err) = started {
        tracing::warn!(error = %err, "cannot start the metrics upkeep thread; scrapes still fold histograms");
    }
}
