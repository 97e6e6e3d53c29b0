//! At most `router.traffic.max_executions` queries and mutations execute at once; the others
//! wait their turn, in order of arrival. Off (no bound) by default.
//!
//! Why bound them: an answer in the making is a tree that each subgraph hop adds to, and the
//! router's CPU per answer grows with how many such trees are alive at once, because each hop
//! finds its tree gone from the CPU caches. On the gateway benchmark, 50 connections cost about a
//! quarter more CPU per answer than 8 to 12 (docs/performance.md). When the router is short of
//! CPU (beside its subgraphs, or overloaded), letting a dozen run and the rest wait costs less
//! CPU per answer and shortens the slowest waits, because the requests that run finish sooner.
//! When subgraphs are remote, an execution mostly waits on the network and the bound only caps
//! throughput: leave it off there.

use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Admission {
    /// None: no bound.
    slots: Option<Semaphore>,
    /// Executions waiting for a slot now.
    waiting: prometheus::IntGauge,
}

/// Holds one execution's slot until dropped.
pub struct Slot<'a> {
    _permit: Option<SemaphorePermit<'a>>,
}

impl Admission {
    /// `max`: most executions at once; 0 for no bound.
    pub fn new(max: usize, waiting: prometheus::IntGauge) -> Self {
        let slots = (max > 0).then(|| Semaphore::new(max.min(Semaphore::MAX_PERMITS)));
        Self { slots, waiting }
    }

    /// Waits for a slot, behind those that asked before (tokio's semaphore is fair).
    pub async fn enter(&self) -> Slot<'_> {
        let Some(slots) = &self.slots else { return Slot { _permit: None } };
        if let Ok(permit) = slots.try_acquire() {
            return Slot { _permit: Some(permit) };
        }
        self.waiting.inc();
        // Counted down however the wait ends, the client's going away included.
        let _waiting = Waiting(&self.waiting);
        Slot { _permit: Some(slots.acquire().await.expect("the semaphore is never closed")) }
    }
}

struct Waiting<'a>(&'a prometheus::IntGauge);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge() -> prometheus::IntGauge {
        prometheus::IntGauge::new("waiting", "waiting").expect("a gauge")
    }

    #[tokio::test]
    async fn past_the_bound_an_execution_waits_until_a_slot_is_given_back_and_is_counted_while_it_waits() {
        let admission = Admission::new(1, gauge());
        let first = admission.enter().await;
        let mut second = std::pin::pin!(admission.enter());
        assert!(futures::poll!(second.as_mut()).is_pending());
        assert_eq!(admission.waiting.get(), 1);
        drop(first);
        let _second = second.await;
        assert_eq!(admission.waiting.get(), 0);
    }

    #[tokio::test]
    async fn a_wait_given_up_is_no_longer_counted_and_takes_no_slot() {
        let admission = Admission::new(1, gauge());
        let first = admission.enter().await;
        {
            let mut abandoned = std::pin::pin!(admission.enter());
            assert!(futures::poll!(abandoned.as_mut()).is_pending());
            assert_eq!(admission.waiting.get(), 1);
        }
        assert_eq!(admission.waiting.get(), 0);
        drop(first);
        let mut next = std::pin::pin!(admission.enter());
        assert!(futures::poll!(next.as_mut()).is_ready(), "the slot went back and nobody holds it");
    }

    #[tokio::test]
    async fn without_a_bound_nothing_waits() {
        let admission = Admission::new(0, gauge());
        let held: Vec<Slot<'_>> = futures::future::join_all((0..1000).map(|_| admission.enter())).await;
        assert_eq!(held.len(), 1000);
        assert_eq!(admission.waiting.get(), 0);
    }
}
