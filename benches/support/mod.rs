//! What the benches that drive a running stack share: timing a fixed number of calls at a
//! fixed concurrency.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};

/// Calls a measurement makes, and how many at once.
pub const REQUESTS: usize = 400;
pub const CONCURRENCY: usize = 8;

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50, p99 and calls a second of `REQUESTS` calls, `CONCURRENCY` at a time, after a warm-up
/// of 20 (numbered from `REQUESTS` on, so a call can derive a unique key from its number).
pub async fn measure<F, Fut>(call: F) -> (Duration, Duration, f64)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..20 {
        call(REQUESTS + i).await;
    }
    let started = Instant::now();
    let mut all: Vec<Duration> = stream::iter(0..REQUESTS)
        .map(|i| {
            let call = &call;
            async move {
                let t = Instant::now();
                call(i).await;
                t.elapsed()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let rps = REQUESTS as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (all[all.len() / 2], all[all.len() * 99 / 100], rps)
}
