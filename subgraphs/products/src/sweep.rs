//! Releases reservations nobody committed or released within their TTL (an order service that
//! crashed mid-checkout), so their units go back on sale. Each release is the same conditional
//! statement a caller's is: a sweep racing a commit, or two replicas sweeping, change stock once.

use std::time::Duration;

use tessera_kit::Runtime;

use crate::{
    settle::end,
    store::reservations::{self, Outcome},
};

/// Reservations released per round.
const BATCH: i64 = 100;

/// How often to look: a quarter of the TTL, between 250 ms and a minute, so an expired
/// reservation is released within about a quarter of its TTL.
pub fn interval(ttl_seconds: u64) -> Duration {
    Duration::from_millis(ttl_seconds.saturating_mul(250)).clamp(Duration::from_millis(250), Duration::from_secs(60))
}

/// Runs until the runtime stops.
pub async fn run(rt: Runtime) {
    let every = interval(rt.config.catalogue.reservation_ttl_seconds);
    loop {
        tokio::select! {
            () = rt.stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = round(&rt).await {
            tracing::warn!(error = format!("{e:?}"), "reservation sweep failed; will retry");
        }
    }
}

/// Releases what is due now; returns how many.
pub async fn round(rt: &Runtime) -> Result<usize, crate::error::ProductsError> {
    let due = reservations::expired(&rt.db, chrono::Utc::now().timestamp_millis(), BATCH).await?;
    let mut released = 0;
    for id in due {
        match end(rt, id, Outcome::Release, "expired").await {
            Ok(_) => released += 1,
            Err(e) => tracing::warn!(reservation = %id, error = format!("{e:?}"), "expired reservation not released"),
        }
    }
    if released > 0 {
        tracing::info!(released, "expired stock reservations released");
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_looks_four_times_per_ttl_within_bounds() {
        assert_eq!(interval(900), Duration::from_secs(60));
        assert_eq!(interval(2), Duration::from_millis(500));
        assert_eq!(interval(0), Duration::from_millis(250));
    }
}
