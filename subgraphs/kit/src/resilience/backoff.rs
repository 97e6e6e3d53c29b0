//! Jittered exponential backoff ("full jitter": a random wait up to the exponential bound), so
//! callers that failed together do not retry together.

use std::time::Duration;

/// The wait before retry `attempt` (1 for the first retry): uniformly random in
/// `[base/2, base · 2^(attempt-1)]`, capped at `cap`.
pub fn delay(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let bound = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(cap);
    let floor = (base / 2).min(bound);
    let span = (bound - floor).as_micros() as u64;
    floor + Duration::from_micros(fastrand::u64(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wait_stays_within_its_doubling_bound_and_the_cap() {
        let base = Duration::from_millis(50);
        let cap = Duration::from_millis(400);
        for attempt in 1..=10 {
            let bound = (base * 2u32.pow(attempt - 1)).min(cap);
            for _ in 0..50 {
                let d = delay(attempt, base, cap);
                assert!(d >= base / 2 && d <= bound, "attempt {attempt}: {d:?} outside [{:?}, {bound:?}]", base / 2);
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| delay(3, base, cap)).collect();
        assert!(spread.len() > 10, "waits are jittered");
    }
}
