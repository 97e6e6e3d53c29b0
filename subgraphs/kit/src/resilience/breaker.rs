//! A circuit breaker per endpoint. After `threshold` consecutive failures it opens: requests
//! skip that endpoint for `open_for`, instead of waiting on a dead one. Then one probe request
//! is let through (half-open); its success closes the breaker, its failure reopens it. A probe
//! that never reports back (its caller was cancelled) frees the slot after another `open_for`,
//! so a lost probe cannot keep the breaker shut for good.
//!
//! Shared by the router (per subgraph replica) and the service client (per called service).

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Default)]
pub struct Breaker {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    /// When the current probe was let through.
    probing_since: Option<Instant>,
    open_for: Duration,
}

impl Breaker {
    /// Whether a request may go to this endpoint now (taking the probe slot when half-open).
    pub fn allow(&self) -> bool {
        let mut s = self.state.lock().expect("breaker lock poisoned");
        let now = Instant::now();
        match s.open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) if s.probing_since.is_some_and(|since| now < since + s.open_for) => false,
            Some(_) => {
                s.probing_since = Some(now);
                true
            }
        }
    }

    /// How long until a request may be tried again: `None` while closed (or half-open with
    /// the probe slot free).
    pub fn retry_after(&self) -> Option<Duration> {
        let s = self.state.lock().expect("breaker lock poisoned");
        let now = Instant::now();
        let until = s.open_until?;
        let free_at = s.probing_since.map_or(until, |since| (since + s.open_for).max(until));
        (free_at > now).then(|| free_at - now)
    }

    /// Whether the breaker is open now (a request would be refused).
    pub fn is_open(&self) -> bool {
        self.retry_after().is_some()
    }

    pub fn success(&self) {
        *self.state.lock().expect("breaker lock poisoned") = State::default();
    }

    pub fn failure(&self, threshold: u32, open_for: Duration) {
        let mut s = self.state.lock().expect("breaker lock poisoned");
        s.failures += 1;
        s.probing_since = None;
        s.open_for = open_for;
        if s.failures >= threshold.max(1) {
            s.open_until = Some(Instant::now() + open_for);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_opens_after_the_threshold_then_lets_one_probe_through() {
        let b = Breaker::default();
        b.failure(2, Duration::from_millis(30));
        assert!(b.allow(), "one failure is under the threshold");
        assert!(b.retry_after().is_none());
        b.failure(2, Duration::from_millis(30));
        assert!(!b.allow(), "open");
        assert!(b.retry_after().is_some_and(|d| d <= Duration::from_millis(30)));
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow(), "half-open: one probe");
        assert!(!b.allow(), "only one probe at a time");
        b.success();
        assert!(b.allow() && b.allow(), "closed again");
    }

    #[test]
    fn a_probe_that_never_reports_frees_its_slot_after_the_open_time() {
        let b = Breaker::default();
        b.failure(1, Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(25));
        assert!(b.allow(), "the probe goes");
        assert!(!b.allow(), "its slot is taken");
        std::thread::sleep(Duration::from_millis(25));
        assert!(b.allow(), "the lost probe no longer holds the slot");
    }
}
