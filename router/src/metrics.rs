//! Prometheus metrics of one router, served on `/metrics` to allowlisted addresses.
//!
//! Each router has its own registry (several routers may run in one process, in tests).

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::RouterState;

pub struct Metrics {
    registry: Registry,
    /// GraphQL requests by operation type (`query`, `mutation`, `subscription`, `unknown`) and
    /// outcome (`ok`, `error`: answered with errors, `refused`: failed before execution).
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    /// Subgraph requests by subgraph.
    pub fetch_seconds: HistogramVec,
    pub fetch_errors: IntCounterVec,
    /// Plan cache lookups by result (`hit`, `miss`).
    pub plan_cache: IntCounterVec,
    pub ws_connections: IntGauge,
    pub ws_subscriptions: IntGauge,
    /// Upstream subscriptions (shared feeds, `crate::feed`) running now.
    pub subscription_upstreams: IntGauge,
    pub subscription_connections: IntGauge,
    /// Events a subscriber too slow for its feed skipped.
    pub subscription_skipped: prometheus::IntCounter,
    /// Cached responses dropped because an entity they held changed.
    pub cache_invalidations: prometheus::IntCounter,
    /// Requests answered with an identical in-flight request's answer (inbound dedup).
    pub inbound_shared: prometheus::IntCounter,
    /// Executions waiting for a slot under `router.traffic.max_executions` (see `admission`).
    pub executions_waiting: IntGauge,
    /// GraphQL requests by Apollo client awareness (`apollographql-client-name`/`-version`).
    clients: IntCounterVec,
    /// `clients` for requests that name no client (most of them): after the first, no lock and
    /// no allocation. Made on first use, so an unused router shows no such series.
    anonymous_client: std::sync::OnceLock<prometheus::IntCounter>,
    /// The label pairs seen so far: clients choose these values, so past `MAX_CLIENTS` new
    /// ones count as `other` instead of growing the registry without bound.
    client_labels: Mutex<HashSet<(String, String)>>,
}

const MAX_CLIENTS: usize = 100;

const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new_custom(Some("tessera_router".into()), None).expect("a valid prefix");
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels)
                .expect("valid metric");
            registry.register(Box::new(h.clone())).expect("registered once");
            h
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let total = |name: &str, help: &str| {
            let c = prometheus::IntCounter::new(name, help).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        for shared in [tessera_kit::jwt::JWKS_FETCHES.clone(), crate::error::REFUSALS.clone()] {
            registry.register(Box::new(shared)).expect("registered once per router");
        }
        let clients = counter(
            "client_requests_total",
            "GraphQL requests by client name and version (Apollo client awareness headers)",
            &["client_name", "client_version"],
        );
        Self {
            anonymous_client: std::sync::OnceLock::new(),
            clients,
            requests: counter(
                "requests_total",
                "GraphQL requests by operation type and outcome",
                &["operation_type", "outcome"],
            ),
            request_seconds: histogram("request_duration_seconds", "GraphQL request latency", &["operation_type"]),
            fetch_seconds: histogram("subgraph_fetch_duration_seconds", "Subgraph request latency", &["subgraph"]),
            fetch_errors: counter("subgraph_fetch_errors_total", "Subgraph requests that failed", &["subgraph"]),
            plan_cache: counter("plan_cache_total", "Plan cache lookups by result", &["result"]),
            ws_connections: gauge("websocket_connections", "Open client websocket connections"),
            ws_subscriptions: gauge("websocket_subscriptions", "Running subscriptions"),
            subscription_upstreams: gauge(
                "subscription_upstreams",
                "Upstream subscriptions running now (identical subscriptions of one caller share one)",
            ),
            subscription_connections: gauge(
                "subscription_connections",
                "Websockets open to subgraphs (one per endpoint and caller carries all its subscriptions)",
            ),
            subscription_skipped: total(
                "subscription_events_skipped_total",
                "Events a subscriber too slow for its shared feed skipped",
            ),
            inbound_shared: total(
                "inbound_dedup_shared_total",
                "Requests answered with an identical in-flight request's answer",
            ),
            executions_waiting: gauge(
                "executions_waiting",
                "Queries and mutations waiting for a slot under router.traffic.max_executions",
            ),
            cache_invalidations: {
                let c = prometheus::IntCounter::new(
                    "response_cache_invalidations_total",
                    "Cached responses dropped because an entity they held changed",
                )
                .expect("valid metric");
                registry.register(Box::new(c.clone())).expect("registered once");
                c
            },
            client_labels: Mutex::new(HashSet::new()),
            registry,
        }
    }
}

/// The headers a client names itself with (Apollo's convention).
pub const CLIENT_HEADERS: [&str; 2] = ["apollographql-client-name", "apollographql-client-version"];

impl Metrics {
    /// Counts one request under the client that names itself in `headers`.
    pub fn client(&self, headers: &axum::http::HeaderMap) {
        const NAME: &str = CLIENT_HEADERS[0];
        const VERSION: &str = CLIENT_HEADERS[1];
        if !headers.contains_key(NAME) && !headers.contains_key(VERSION) {
            self.anonymous_client.get_or_init(|| self.clients.with_label_values(&["unknown", "unknown"])).inc();
            return;
        }
        let label = |name: &str| {
            let value = headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("unknown");
            let clean = value.len() <= 64
                && value.chars().all(|c| c.is_ascii_alphanumeric() || "._-@/+ ".contains(c))
                && !value.is_empty();
            if clean { value.to_owned() } else { "invalid".to_owned() }
        };
        let mut pair = (label(NAME), label(VERSION));
        {
            let mut seen = self.client_labels.lock().expect("client labels lock poisoned");
            if !seen.contains(&pair) {
                if seen.len() >= MAX_CLIENTS {
                    pair = ("other".into(), "other".into());
                } else {
                    seen.insert(pair.clone());
                }
            }
        }
        self.clients.with_label_values(&[pair.0.as_str(), pair.1.as_str()]).inc();
    }

    pub fn render(&self) -> String {
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}

/// `GET /metrics`, for addresses in `router.metrics_allow` only.
pub(crate) async fn serve(State(state): State<Arc<RouterState>>, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if !peer.is_some_and(|ip| state.metrics_allow.iter().any(|net| net.contains(&ip))) {
        return (StatusCode::FORBIDDEN, "metrics are not served to this address").into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_are_counted_and_a_flood_of_new_ones_counts_as_other() {
        let metrics = Metrics::default();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("apollographql-client-name", "web-shop".parse().expect("a value"));
        headers.insert("apollographql-client-version", "1.2.0".parse().expect("a value"));
        metrics.client(&headers);
        for i in 0..(MAX_CLIENTS + 5) {
            headers.insert("apollographql-client-version", format!("9.{i}").parse().expect("a value"));
            metrics.client(&headers);
        }
        headers.insert("apollographql-client-name", "<script>".parse().expect("a value"));
        metrics.client(&headers);
        let text = metrics.render();
        assert!(text.contains(r#"client_requests_total{client_name="web-shop",client_version="1.2.0"} 1"#), "{text}");
        assert!(text.contains(r#"client_name="other",client_version="other"} 7"#), "{text}");
        assert!(!text.contains("<script>"), "values that are not plain names are not labels");
        assert_eq!(text.matches("client_requests_total{").count(), MAX_CLIENTS + 1, "bounded");
    }
}
