//! Back-off, one policy for the whole fleet (from `backon`): the pause after a failure starts at
//! `first`, doubles after each further failure up to `longest`, and gets up to as much again at
//! random, so replicas that failed together do not retry in step. It never runs out: what is
//! retried here (a dependency that is away, an event whose predecessor has not come) is retried
//! for as long as the service runs, or as JetStream redelivers. Each use names only its first
//! and longest pause.
//!
//! For waiting until something becomes true (tests, the harness), see [`crate::poll`] instead.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

/// The policy: `first`, doubling up to `longest`, with jitter, without end.
pub fn policy(first: Duration, longest: Duration) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(first)
        .with_factor(2.0)
        .with_max_delay(longest.max(first))
        .with_jitter()
        .without_max_times()
}

/// The pauses of one run of failures: [`Backoff::next_delay`] after each failure,
/// [`Backoff::reset`] after a success.
#[derive(Debug)]
pub struct Backoff {
    policy: ExponentialBuilder,
    delays: ExponentialBackoff,
    longest: Duration,
}

impl Backoff {
    pub fn new(first: Duration, longest: Duration) -> Self {
        let policy = policy(first, longest);
        Self {
            policy,
            delays: policy.build(),
            longest,
        }
    }

    /// The pause before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        // The policy has no end; should it ever have one, the longest pause goes on.
        self.delays.next().unwrap_or(self.longest)
    }

    /// The next failure starts again from the first pause.
    pub fn reset(&mut self) {
        self.delays = self.policy.build();
    }

    /// The pause after the `failures`th failure in a row (1 for the first), for retries whose
    /// count is kept elsewhere (JetStream counts an event's deliveries).
    pub fn after(first: Duration, longest: Duration, failures: u64) -> Duration {
        let mut delays = policy(first, longest).build();
        // Past this many doublings of even a microsecond, every pause is the longest one.
        let skip = failures.clamp(1, 64) - 1;
        delays
            .nth(usize::try_from(skip).unwrap_or(63))
            .unwrap_or(longest)
    }
}

/// Sleeps `delay`; `false` if `stop` is cancelled first (the caller stops retrying).
pub async fn pause(delay: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = stop.cancelled() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_millis(100);
    const LONGEST: Duration = Duration::from_secs(1);

    /// A pause of the policy: `base`, plus up to as much again.
    fn within(delay: Duration, base: Duration) -> bool {
        delay >= base && delay <= base * 2
    }

    #[test]
    fn pauses_double_up_to_the_longest_and_never_run_out() {
        let mut backoff = Backoff::new(FIRST, LONGEST);
        for base in [100, 200, 400, 800, 1_000, 1_000] {
            let delay = backoff.next_delay();
            assert!(
                within(delay, Duration::from_millis(base)),
                "{delay:?} for {base} ms"
            );
        }
        for _ in 0..1_000 {
            assert!(within(backoff.next_delay(), LONGEST));
        }
    }

    #[test]
    fn a_reset_starts_again_from_the_first_pause() {
        let mut backoff = Backoff::new(FIRST, LONGEST);
        for _ in 0..5 {
            backoff.next_delay();
        }
        backoff.reset();
        assert!(within(backoff.next_delay(), FIRST));
    }

    #[test]
    fn the_pause_after_n_failures_follows_the_same_policy() {
        assert!(within(Backoff::after(FIRST, LONGEST, 0), FIRST));
        assert!(within(Backoff::after(FIRST, LONGEST, 1), FIRST));
        assert!(within(Backoff::after(FIRST, LONGEST, 3), FIRST * 4));
        assert!(within(Backoff::after(FIRST, LONGEST, 1_000), LONGEST));
        assert!(within(Backoff::after(FIRST, LONGEST, u64::MAX), LONGEST));
    }

    #[tokio::test]
    async fn a_pause_ends_early_when_stopped() {
        let stop = CancellationToken::new();
        assert!(pause(Duration::from_millis(1), &stop).await);
        stop.cancel();
        assert!(!pause(Duration::from_secs(60), &stop).await);
    }
}
