//! Reloading the supergraph file without a restart.
//!
//! The file is polled. When its bytes change and the new supergraph loads, it replaces the old
//! one for new requests. Requests in flight and open subscriptions keep the supergraph they
//! started with (they hold an `Arc` to it), so a reload drops nothing. A file that does not load
//! is logged and ignored: the router keeps serving the last good supergraph.
//!
//! The new supergraph's `@join__graph` URLs take effect with it (configured URLs still win), so
//! a reload may add, move or drop a subgraph. A subgraph whose endpoints did not change keeps
//! its circuit breakers.

use std::{
    path::PathBuf,
    sync::{Arc, Weak},
    time::Duration,
};

use crate::{RouterState, Subgraphs, supergraph::Supergraph};

pub(crate) struct Watch {
    pub path: PathBuf,
    pub every: Duration,
    pub plan_cache: usize,
    pub introspection: bool,
    /// `router.subgraph_urls`, laid over each new supergraph's own URLs.
    pub configured: Subgraphs,
    pub replicas: std::collections::BTreeMap<String, Vec<url::Url>>,
}

/// Polls until the router is gone (its state can no longer be upgraded).
pub(crate) fn spawn(state: Weak<RouterState>, watch: Watch) {
    tokio::spawn(async move {
        let mut last = std::fs::read(&watch.path).ok();
        loop {
            tokio::time::sleep(watch.every).await;
            let Some(state) = state.upgrade() else { return };
            let Ok(now) = std::fs::read(&watch.path) else { continue };
            if last.as_ref() == Some(&now) {
                continue;
            }
            last = Some(now.clone());
            let loaded = Supergraph::new(&String::from_utf8_lossy(&now), watch.plan_cache, watch.introspection)
                .map_err(anyhow::Error::msg)
                .and_then(|supergraph| {
                    let subgraphs = watch.configured.clone().over(&supergraph.state().subgraph_endpoint_map)?;
                    Ok((supergraph, subgraphs))
                });
            match loaded {
                Ok((supergraph, subgraphs)) => {
                    // Endpoints first: a request that sees the new supergraph finds its subgraphs.
                    state.client.set_urls(crate::endpoint_urls(&subgraphs, &watch.replicas));
                    *state.subgraphs.write().expect("subgraphs lock poisoned") = subgraphs;
                    *state.supergraph.write().expect("supergraph lock poisoned") = Arc::new(supergraph);
                    tracing::info!(path = %watch.path.display(), "supergraph reloaded");
                }
                Err(e) => {
                    tracing::warn!(path = %watch.path.display(), error = %e, "the new supergraph does not load; keeping the previous one")
                }
            }
        }
    });
}
