//! Live counters of the router (the start of `/metrics`).

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    /// Open client websocket connections.
    pub ws_connections: Gauge,
    /// Running subscriptions over all connections.
    pub ws_subscriptions: Gauge,
    /// Plans served from the plan cache.
    pub plan_cache_hits: Gauge,
}

#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}
