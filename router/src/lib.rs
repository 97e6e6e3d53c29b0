//! The gateway router. It depends on no subgraph's Rust code: only on their URLs and the
//! composed supergraph SDL.
//!
//! A request goes: parse → validate against the API schema → authenticate (JWT via JWKS) →
//! plan (hive-router-query-planner, cached) → execute (our executor: batched entity fetches,
//! merge by path) → project (null propagation, client's shape) → respond.

mod admission;
mod apq;
mod authorize;
mod batch;
mod cache_key;
pub mod compose;
mod context;
mod csrf;
mod data;
pub mod defer;
pub mod error;
pub mod execute;
mod feed;
mod graphiql;
mod http;
mod inflight;
mod introspection;
pub mod invalidation;
pub mod limits;
pub mod metrics;
mod multipart;
mod pipeline;
mod probes;
pub mod project;
pub mod rate_limit;
mod reload;
mod reply;
mod request;
pub mod response_cache;
pub mod subgraphs;
mod subscription;
pub mod supergraph;
mod variables;
mod ws;

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use axum::{Router, routing::get};
use tessera_kit::jwt::JwtVerifier;

use crate::{execute::SubgraphClient, supergraph::Supergraph};

pub use subgraphs::Subgraphs;

/// What the router needs to start.
pub struct RouterOptions {
    pub subgraphs: Subgraphs,
    pub supergraph: Supergraph,
    pub verifier: Arc<JwtVerifier>,
    pub body_limit_bytes: usize,
    pub subgraph_timeout: Duration,
    pub authorization: tessera_kit::config::AuthorizationMode,
    pub csrf_prevention: bool,
    pub limits: limits::Limits,
    pub apq_cache_size: usize,
    pub ws_init_timeout: Duration,
    pub max_subscriptions_per_connection: usize,
    pub metrics_allow: Vec<ipnet::IpNet>,
    pub cors: tessera_kit::config::CorsConfig,
    pub rate_limiter: rate_limit::RateLimiter,
    pub rate_limits: tessera_kit::config::RateLimitConfig,
    /// Where `SessionRevoked` events arrive; None in tests that do not need revocation.
    pub bus: Option<tessera_kit::bus::Bus>,
    pub traffic: tessera_kit::config::TrafficConfig,
    pub response_cache: response_cache::ResponseCache,
    /// How long access tokens live (`identity.access_token_seconds`): a revoked session is
    /// remembered that long, after which its tokens have expired anyway.
    pub access_token_lifetime: Duration,
    /// Most bytes of request headers accepted.
    pub max_header_bytes: usize,
    /// Most bytes of subgraph answers one client request may hold.
    pub max_response_bytes: usize,
    /// TLS toward subgraphs: the CAs they may chain to (`router.traffic.ca_path`) and the
    /// certificate the router presents (`client_cert_path`, `client_key_path`).
    pub subgraph_tls: rustls::ClientConfig,
}

pub struct RouterState {
    response_cache: response_cache::ResponseCache,
    revocations: Arc<tessera_kit::jwt::Revocations>,
    rate_limiter: rate_limit::RateLimiter,
    rate_limits: tessera_kit::config::RateLimitConfig,
    ws: ws::WsSettings,
    pub metrics: Arc<metrics::Metrics>,
    metrics_allow: Vec<ipnet::IpNet>,
    authorization: tessera_kit::config::AuthorizationMode,
    csrf_prevention: bool,
    limits: limits::Limits,
    max_header_bytes: usize,
    apq: apq::PersistedQueries,
    /// Where each subgraph is, for websockets and `/ready` (a reload may move them).
    subgraphs: RwLock<Subgraphs>,
    supergraph: RwLock<Arc<Supergraph>>,
    client: SubgraphClient,
    verifier: Arc<JwtVerifier>,
    http: reqwest::Client,
    /// Identical client requests running now (see `inflight`), and which may share.
    inflight: inflight::Inflight<reply::Reply>,
    /// Subscriptions running now, shared among identical ones (see `feed`).
    feeds: feed::Feeds,
    inbound_dedup: tessera_kit::config::InboundDedup,
    /// How many executions may run at once (`router.traffic.max_executions`).
    admission: admission::Admission,
}

impl RouterState {
    /// The supergraph in force now (a reload swaps it; requests in flight keep theirs).
    pub fn supergraph(&self) -> Arc<Supergraph> {
        self.supergraph.read().expect("supergraph lock poisoned").clone()
    }

    /// The subgraphs' endpoints now.
    pub fn subgraphs(&self) -> Subgraphs {
        self.subgraphs.read().expect("subgraphs lock poisoned").clone()
    }
}

/// Each subgraph's endpoints, by lower-case name: its main URL first, then its replicas.
fn endpoint_urls(
    subgraphs: &Subgraphs,
    replicas: &std::collections::BTreeMap<String, Vec<url::Url>>,
) -> HashMap<String, Vec<url::Url>> {
    subgraphs
        .names()
        .filter_map(|name| {
            let mut urls = vec![subgraphs.graphql_url(name)?];
            for replica in replicas.get(name).into_iter().flatten() {
                urls.push(subgraphs::endpoint(replica));
            }
            Some((name.to_lowercase(), urls))
        })
        .collect()
}

/// The router app.
pub fn app(options: RouterOptions) -> Router {
    app_with_state(options).0
}

fn app_with_state(options: RouterOptions) -> (Router, Arc<RouterState>) {
    let urls = endpoint_urls(&options.subgraphs, &options.traffic.replicas);
    let metrics = Arc::new(metrics::Metrics::default());
    let cors = cors_layer(&options.cors);
    let revocations = tessera_kit::jwt::Revocations::new(options.access_token_lifetime);
    if let Some(bus) = &options.bus {
        tessera_kit::jwt::revocations::spawn_consumer(bus, Arc::downgrade(&revocations), options.access_token_lifetime);
    }
    let inbound_dedup = options.traffic.inbound_dedup;
    let admission = admission::Admission::new(options.traffic.max_executions, metrics.executions_waiting.clone());
    let state = Arc::new(RouterState {
        inflight: inflight::Inflight::default(),
        feeds: feed::Feeds::default(),
        inbound_dedup,
        admission,
        response_cache: options.response_cache,
        revocations,
        rate_limiter: options.rate_limiter,
        rate_limits: options.rate_limits,
        metrics_allow: options.metrics_allow,
        ws: ws::WsSettings {
            init_timeout: options.ws_init_timeout,
            max_subscriptions: options.max_subscriptions_per_connection,
            max_message_bytes: options.body_limit_bytes,
        },
        metrics: metrics.clone(),
        authorization: options.authorization,
        csrf_prevention: options.csrf_prevention,
        limits: options.limits,
        max_header_bytes: options.max_header_bytes,
        apq: apq::PersistedQueries::new(options.apq_cache_size),
        client: SubgraphClient::new(
            urls,
            options.subgraph_timeout,
            options.traffic,
            metrics,
            options.max_response_bytes,
            options.subgraph_tls,
        ),
        subgraphs: RwLock::new(options.subgraphs),
        supergraph: RwLock::new(Arc::new(options.supergraph)),
        verifier: options.verifier,
        http: reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("HTTP client builds"),
    });
    if let Some(bus) = &options.bus {
        invalidation::spawn(bus, Arc::downgrade(&state));
    }
    let router = Router::new()
        .route(
            "/graphql",
            get(http::get)
                .post(http::post)
                .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::per_ip))
                .layer(axum::middleware::from_fn(http::stamp_client)),
        )
        .route("/", get(graphiql::page))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(probes::ready))
        .route("/metrics", get(metrics::serve))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::limit_headers))
        .with_state(state.clone())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(options.body_limit_bytes));
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    (tessera_kit::telemetry::with_request_ids(router), state)
}

/// CORS for the configured origins; None (no CORS headers at all) when none are configured.
fn cors_layer(config: &tessera_kit::config::CorsConfig) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if config.allow_origins.is_empty() {
        return None;
    }
    let origins = if config.allow_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(config.allow_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::ACCEPT,
                HeaderName::from_static("apollo-require-preflight"),
                HeaderName::from_static("x-apollo-operation-name"),
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("traceparent"),
                // Apollo Client's `clientAwareness` sends these on every request.
                HeaderName::from_static("apollographql-client-name"),
                HeaderName::from_static("apollographql-client-version"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(config.max_age_seconds)),
    )
}

/// Builds the router from configuration: loads `router.supergraph_path`, or composes from the
/// running `subgraphs`, and verifies tokens against the configured JWKS.
pub async fn build(
    config: &tessera_kit::config::Config,
    subgraphs: Subgraphs,
    bus: Option<tessera_kit::bus::Bus>,
) -> anyhow::Result<Router> {
    let sdl = match &config.router.supergraph_path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the supergraph {}: {e}", path.display()))?,
        None => compose::from_live(&subgraphs).await?,
    };
    let supergraph = Supergraph::new(&sdl, config.router.plan_cache_size, config.router.introspection)
        .map_err(anyhow::Error::msg)?;
    // The supergraph's `@join__graph(url:)`, with the given URLs over them.
    let configured = subgraphs.clone();
    let subgraphs = subgraphs.over(&supergraph.state().subgraph_endpoint_map)?;
    let (router, state) = app_with_state(RouterOptions {
        subgraphs,
        supergraph,
        verifier: Arc::new(JwtVerifier::new(&config.jwt, config.jwks_url())),
        body_limit_bytes: config.body_limit_bytes,
        subgraph_timeout: Duration::from_millis(config.router.subgraph_timeout_ms),
        authorization: config.router.authorization,
        csrf_prevention: config.router.csrf_prevention,
        limits: config.router.limits,
        apq_cache_size: config.router.apq_cache_size,
        ws_init_timeout: Duration::from_millis(config.router.ws_init_timeout_ms),
        max_subscriptions_per_connection: config.router.max_subscriptions_per_connection,
        metrics_allow: config.router.metrics_allow.clone(),
        cors: config.router.cors.clone(),
        rate_limiter: match &config.redis_url {
            Some(url) => rate_limit::RateLimiter::redis(url.expose(), &config.redis_namespace).await?,
            None => rate_limit::RateLimiter::in_memory(),
        },
        rate_limits: config.router.rate_limit.clone(),
        bus,
        traffic: config.router.traffic.clone(),
        response_cache: match (&config.redis_url, config.router.response_cache_entries) {
            (_, 0) => response_cache::ResponseCache::Off,
            (Some(url), _) => response_cache::ResponseCache::redis(url.expose(), &config.redis_namespace).await?,
            (None, entries) => response_cache::ResponseCache::memory(entries),
        },
        access_token_lifetime: Duration::from_secs(config.identity.access_token_seconds.max(0) as u64),
        max_header_bytes: config.router.limits.max_header_bytes,
        max_response_bytes: config.router.limits.max_response_bytes,
        subgraph_tls: execute::subgraph_tls(&config.router.traffic)?,
    });
    if let Some(path) = &config.router.supergraph_path {
        reload::spawn(
            Arc::downgrade(&state),
            reload::Watch {
                path: path.clone(),
                every: Duration::from_millis(config.router.supergraph_poll_ms),
                plan_cache: config.router.plan_cache_size,
                introspection: config.router.introspection,
                configured,
                replicas: config.router.traffic.replicas.clone(),
            },
        );
    }
    Ok(router)
}
