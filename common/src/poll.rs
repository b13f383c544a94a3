//! Waiting for something to become true by asking again, written once: the services' tests
//! (through `testing::eventually`), the end-to-end harness and the benchmark all poll with it.
//! For retrying a failed operation with growing pauses, see [`crate::retry`] instead.

use std::time::Duration;

use tokio::time::Instant;

/// Calls `check` until it yields a value, pausing `every` between calls; `None` if it has not
/// by `deadline` from now. The first call is at once, and one call always follows the deadline's
/// last pause, so a slow check still gets its answer counted.
pub async fn until<T>(
    deadline: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Option<T> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        let now = Instant::now();
        if now >= until {
            return None;
        }
        tokio::time::sleep(every.min(until - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_returns_the_first_value() {
        let mut calls = 0;
        let found = until(
            Duration::from_secs(5),
            Duration::from_millis(1),
            async || {
                calls += 1;
                (calls == 3).then_some(calls)
            },
        )
        .await;
        assert_eq!(found, Some(3));
    }

    #[tokio::test]
    async fn it_gives_up_at_the_deadline_after_a_last_call() {
        let started = Instant::now();
        let deadline = Duration::from_millis(50);
        let mut calls = 0;
        let found: Option<()> = until(deadline, Duration::from_millis(30), async || {
            calls += 1;
            None
        })
        .await;
        assert_eq!(found, None);
        assert!(started.elapsed() >= deadline);
        // At once, and again once the deadline is reached (and after 30 ms, unless that is late).
        assert!(calls >= 2, "{calls} calls");
    }
}
