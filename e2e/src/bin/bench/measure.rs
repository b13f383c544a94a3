//! Bounded load with a fixed number in flight, latencies in an HDR histogram, and no tolerance
//! for failure: one failed call fails the whole measurement, with the count and the first cause.

use std::{
    future::{Future, ready},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::{StreamExt, stream};
use hdrhistogram::Histogram;

/// Calls in flight at once, for every measurement (the database's and the endpoints').
pub const IN_FLIGHT: usize = 16;

/// How much load one measurement puts on.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub requests: usize,
    /// No new call starts after this long (those in flight finish and count); `None`: all run.
    pub within: Option<Duration>,
}

impl Load {
    pub fn all(requests: usize) -> Self {
        Self {
            requests,
            within: None,
        }
    }

    pub fn at_most(requests: usize, within: Duration) -> Self {
        Self {
            requests,
            within: Some(within),
        }
    }
}

/// What one measurement saw.
pub struct Measured {
    pub requests: u64,
    pub elapsed: Duration,
    /// When the last call answered.
    pub finished: Instant,
    latencies: Histogram<u64>,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `quantile` (0.95: 95 %) of the calls answered.
    pub fn quantile(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.latencies.value_at_quantile(quantile))
    }
}

/// Runs `call(0)`, `call(1)`, … with [`IN_FLIGHT`] of them at once; returns what they returned.
/// Every call must succeed: otherwise the error counts the failures and carries the first cause.
pub async fn measure<T, F, Fut>(
    what: &str,
    load: Load,
    call: F,
) -> anyhow::Result<(Measured, Vec<T>)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let deadline = load.within.map(|within| started + within);
    let outcomes: Vec<(Duration, anyhow::Result<T>)> = stream::iter(0..load.requests)
        .take_while(|_| ready(deadline.is_none_or(|deadline| Instant::now() < deadline)))
        .map(|i| {
            let call = &call;
            async move {
                let start = Instant::now();
                let outcome = call(i).await;
                (start.elapsed(), outcome)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let finished = Instant::now();
    let attempted = outcomes.len();
    let mut latencies = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .context("creating a latency histogram")?;
    let mut values = Vec::with_capacity(attempted);
    let mut failures = Vec::new();
    for (latency, outcome) in outcomes {
        match outcome {
            Ok(value) => {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                latencies.saturating_record(micros.max(1));
                values.push(value);
            }
            Err(err) => failures.push(err),
        }
    }
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{what}: {} of {attempted} requests FAILED; the first: {first:#}",
            failures.len()
        );
    }
    anyhow::ensure!(attempted > 0, "{what}: no request ran");
    Ok((
        Measured {
            requests: latencies.len(),
            elapsed: finished - started,
            finished,
            latencies,
        },
        values,
    ))
}
