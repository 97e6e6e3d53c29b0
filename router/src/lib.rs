//! The gateway router. It depends on no subgraph's Rust code: only on their URLs (and, with the
//! router issue, the composed supergraph SDL).
//!
//! This crate holds the foundation: the router process, `/health`, and `/ready` (every subgraph
//! answers its own `/ready`). Composition, planning, execution, JWT enforcement and subscriptions
//! arrive with the router issue.

pub mod compose;
mod probes;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use axum::{Router, routing::get};

/// The subgraphs the router fronts, by name.
#[derive(Debug, Clone)]
pub struct Subgraphs(pub BTreeMap<String, url::Url>);

pub struct RouterState {
    subgraphs: Subgraphs,
    http: reqwest::Client,
}

/// The router app.
pub fn app(subgraphs: Subgraphs, body_limit_bytes: usize) -> Router {
    let state = Arc::new(RouterState {
        subgraphs,
        http: reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("HTTP client builds"),
    });
    let router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(probes::ready))
        .with_state(state)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit_bytes));
    tessera_kit::telemetry::with_request_ids(router)
}
