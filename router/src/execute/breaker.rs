//! A circuit breaker per subgraph endpoint. After `threshold` consecutive failures it opens:
//! requests skip that endpoint for `open_for`, instead of waiting on a dead one. Then one probe
//! request is let through (half-open); its success closes the breaker, its failure reopens it.

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
    probing: bool,
}

impl Breaker {
    /// Whether a request may go to this endpoint now (taking the probe slot when half-open).
    pub fn allow(&self) -> bool {
        let mut s = self.state.lock().expect("breaker lock poisoned");
        match s.open_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) if s.probing => false,
            Some(_) => {
                s.probing = true;
                true
            }
        }
    }

    pub fn success(&self) {
        *self.state.lock().expect("breaker lock poisoned") = State::default();
    }

    pub fn failure(&self, threshold: u32, open_for: Duration) {
        let mut s = self.state.lock().expect("breaker lock poisoned");
        s.failures += 1;
        s.probing = false;
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
        b.failure(2, Duration::from_millis(30));
        assert!(!b.allow(), "open");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow(), "half-open: one probe");
        assert!(!b.allow(), "only one probe at a time");
        b.success();
        assert!(b.allow() && b.allow(), "closed again");
    }
}
