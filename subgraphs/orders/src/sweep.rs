//! Recovery, at start-up and then periodically: orders left `PENDING` (the process crashed
//! mid-checkout, or products stayed down past the checkout's deadline) are rejected and their
//! reservation given back, and every call still owed to products is made again. Each step is
//! the same conditional move or idempotent call the saga uses, so running it twice, or on two
//! replicas at once, changes nothing twice. Expired idempotency keys are forgotten here too.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tessera_kit::Runtime;

use crate::{
    domain::Status,
    error::OrdersError,
    products::Products,
    saga::{self, KEY_HOURS},
    store::{
        Actor, keys,
        orders::{self, Move, Owed},
    },
};

/// Orders handled per kind per round.
const BATCH: i64 = 100;

/// Runs a round now, then every `checkout.sweep_interval_seconds`, until the runtime stops.
pub async fn run(rt: Runtime, products: Products) {
    let every = Duration::from_secs(rt.config.checkout.sweep_interval_seconds.max(1));
    loop {
        if let Err(e) = round(&rt, &products).await {
            tracing::warn!(error = format!("{e:?}"), "order recovery round failed; will retry");
        }
        tokio::select! {
            () = rt.stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub rejected: usize,
    pub settled: usize,
}

pub async fn round(rt: &Runtime, products: &Products) -> Result<Round, OrdersError> {
    let mut done = Round::default();
    let grace = chrono::Duration::seconds(i64::try_from(rt.config.checkout.pending_grace_seconds).unwrap_or(60));
    for order in orders::stale_pending(&rt.db, Utc::now() - grace, BATCH).await? {
        let rejection = json!({ "code": "SERVICE_UNAVAILABLE" }).to_string();
        let m = Move {
            to: Status::Rejected,
            from: &[Status::Pending],
            expected_version: None,
            owed: Owed::GiveBack,
            rejection: Some(&rejection),
            actor: Actor::System,
            reason: Some("checkout did not finish in time"),
        };
        if saga::move_order(rt, order.id, &m).await?.is_some() {
            // The customer was told to retry with the same key: let that key place anew.
            keys::forget_order(&rt.db, order.user_id, order.id).await?;
            done.rejected += 1;
        }
    }
    if products.is_open() {
        return Ok(done); // the owed calls would fail at once; the next round tries again
    }
    for order in orders::owing(&rt.db, BATCH).await? {
        saga::settle(rt, products, order.id).await;
        done.settled += 1;
    }
    let purged = keys::purge(&rt.db, Utc::now() - chrono::Duration::hours(KEY_HOURS)).await?;
    if done != Round::default() || purged > 0 {
        tracing::info!(rejected = done.rejected, settled = done.settled, purged, "order recovery round");
    }
    Ok(done)
}
