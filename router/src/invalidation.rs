//! Drops cached responses when the entities they hold change: every event on the bus whose
//! payload names entities (`entities: [{"__typename": …, "id": …}]`, as the products
//! subgraph's `ProductUpdated` and `StockChanged` do) invalidates their tags.
//!
//! Each replica follows the whole bus (a tail, not a consumer group): an in-memory cache lives
//! in every replica, and each must hear every change. With the cache in Redis the replicas
//! repeat one another's invalidations, which costs a few commands and changes nothing.

use std::{sync::Weak, time::Duration};

use futures::StreamExt;
use tessera_kit::{bus::Bus, cache_tags::event_tags};

use crate::RouterState;

pub fn spawn(bus: &Bus, state: Weak<RouterState>) {
    let mut events = bus.tail(Duration::ZERO);
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            let tags = event_tags(&event.payload);
            if tags.is_empty() {
                continue;
            }
            let Some(state) = state.upgrade() else { return };
            let dropped = state.response_cache.invalidate(&tags).await;
            state.metrics.cache_invalidations.inc_by(dropped as u64);
            tracing::debug!(kind = event.kind, tags = tags.len(), dropped, "cached responses invalidated");
        }
    });
}
