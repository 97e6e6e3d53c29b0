//! The router's part of the configuration.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouterConfig {
    /// Address the router listens on.
    pub listen: SocketAddr,
    /// Subgraph URLs by name. A subgraph missing here is reached at its own `listen` address.
    pub subgraph_urls: BTreeMap<String, url::Url>,
    /// The composed supergraph to serve (production: `schema/supergraph.graphql`). When unset,
    /// the router composes from the running subgraphs' `_service { sdl }` at start.
    pub supergraph_path: Option<PathBuf>,
    /// How often the supergraph file is checked for changes, in milliseconds. A changed file is
    /// reloaded without a restart and without dropping open subscriptions.
    pub supergraph_poll_ms: u64,
    /// Most query plans kept in the plan cache.
    pub plan_cache_size: usize,
    /// How long one subgraph request may take, in milliseconds.
    pub subgraph_timeout_ms: u64,
    /// What happens to fields the caller may not read (`@authenticated`, `@requiresScopes`):
    /// `filter` answers them null with an error and runs the rest; `reject` refuses the operation.
    pub authorization: AuthorizationMode,
    /// Refuse "simple" requests a browser could send cross-site without a preflight (see the
    /// router's csrf module). Turn off only behind a gateway that does the same.
    pub csrf_prevention: bool,
    /// Most persisted queries (APQ) kept.
    pub apq_cache_size: usize,
    /// Operation limits.
    pub limits: LimitsConfig,
    /// Answer `__schema` and `__type` queries. Turn it off in production if the schema is private.
    pub introspection: bool,
    /// How long a websocket client has to send `connection_init`, in milliseconds (then 4408).
    pub ws_init_timeout_ms: u64,
    /// Most subscriptions one websocket connection may run at once.
    pub max_subscriptions_per_connection: usize,
    /// Networks allowed to read `/metrics` (CIDR notation).
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// Cross-origin access for browser front ends on other origins.
    pub cors: CorsConfig,
    /// Request rate limits (token buckets). Shared by all replicas when `redis_url` is set.
    pub rate_limit: RateLimitConfig,
    /// How the router treats subgraphs: replicas, retries, circuit breakers, timeouts, dedup.
    pub traffic: TrafficConfig,
    /// Most responses kept by the response cache for anonymous queries (0 turns it off). In
    /// Redis, when `redis_url` is set, entries expire by their max-age instead.
    pub response_cache_entries: usize,
    /// Serve HTTPS (and WSS) with this certificate and key, instead of plain HTTP.
    pub tls: Option<TlsConfig>,
    /// A built web front end (its `index.html` and assets) to serve at `/app`, beside the graph
    /// on the same origin, so it needs no CORS. Served only when `index.html` is there; the
    /// default is the example shop's build output, relative to the working directory.
    pub web_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first.
    pub cert_path: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficConfig {
    /// More endpoints per subgraph, beside its main URL (base URLs, `/graphql` is appended).
    /// Requests go round-robin over the healthy ones.
    pub replicas: BTreeMap<String, Vec<url::Url>>,
    /// Timeout per subgraph, in milliseconds (default: `router.subgraph_timeout_ms`).
    pub timeouts_ms: BTreeMap<String, u64>,
    /// Extra attempts for a failed query (never for a mutation).
    pub retries: u32,
    /// The first retry waits up to this long, in milliseconds; each next one up to twice as long
    /// (jittered, so callers that failed together do not retry together).
    pub retry_backoff_ms: u64,
    /// Consecutive failures after which an endpoint is skipped.
    pub breaker_failures: u32,
    /// How long a failing endpoint is skipped before one probe request, in milliseconds.
    pub breaker_open_ms: u64,
    /// Share one subgraph request among identical queries in flight at once.
    pub dedup: bool,
    /// Identical client requests in flight share one execution: `anonymous` (queries without a
    /// token), `all` (signed-in callers too, each only with their own identical requests: the
    /// key holds the forwarded `Authorization`), or `off`. Mutations never share.
    pub inbound_dedup: InboundDedup,
    /// Most queries and mutations executing at once; the others wait their turn, in order of
    /// arrival (0: no bound). For a router short of CPU, as beside its own subgraphs: fewer
    /// answers in the making at once cost less CPU each (docs/performance.md). Leave it 0 when
    /// subgraphs are remote, where executions mostly wait on the network.
    pub max_executions: usize,
    /// A PEM file of CA certificates that https subgraphs may present, trusted beside Mozilla's
    /// roots: for subgraphs whose certificates an internal CA signs.
    pub ca_path: Option<std::path::PathBuf>,
    /// A PEM certificate chain (leaf first) the router presents to subgraphs that ask for one
    /// (mutual TLS), with its private key in `client_key_path`: set both or neither.
    pub client_cert_path: Option<std::path::PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of `client_cert_path`.
    pub client_key_path: Option<std::path::PathBuf>,
}

impl Default for TrafficConfig {
    fn default() -> Self {
        Self {
            replicas: BTreeMap::new(),
            timeouts_ms: BTreeMap::new(),
            retries: 2,
            retry_backoff_ms: 25,
            breaker_failures: 5,
            breaker_open_ms: 10_000,
            dedup: true,
            inbound_dedup: InboundDedup::Anonymous,
            max_executions: 0,
            ca_path: None,
            client_cert_path: None,
            client_key_path: None,
        }
    }
}

/// Which client requests may share one execution (`router.traffic.inbound_dedup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InboundDedup {
    Off,
    #[default]
    Anonymous,
    All,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// The bucket per client IP address.
    pub per_ip: BucketConfig,
    /// The bucket per signed-in user (the token's `sub`).
    pub per_user: BucketConfig,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_ip: BucketConfig { capacity: 1000.0, per_second: 500.0 },
            per_user: BucketConfig { capacity: 200.0, per_second: 100.0 },
        }
    }
}

/// A token bucket: `capacity` requests at once, refilled at `per_second`. A rate of 0 turns
/// the limit off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    pub capacity: f64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins allowed to call the router from a browser (`https://app.example.com`), or `*`.
    /// Empty: no CORS headers, so only same-origin pages (GraphiQL on the router) can call it.
    /// A list, or one comma-separated string (as an environment variable gives it).
    #[serde(deserialize_with = "list_or_commas")]
    pub allow_origins: Vec<String>,
    /// How long browsers may cache a preflight answer, in seconds.
    pub max_age_seconds: u64,
}

/// A list of strings, or one string of comma-separated items (`a, b`).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match ListOrCommas::deserialize(deserializer)? {
        ListOrCommas::List(items) => items,
        ListOrCommas::Commas(text) => {
            text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
        }
    })
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self { allow_origins: Vec::new(), max_age_seconds: 600 }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Deepest field nesting an operation may have.
    pub max_depth: usize,
    /// Most aliases in one operation.
    pub max_aliases: usize,
    /// Most root fields in one operation.
    pub max_root_fields: usize,
    /// Most lexical tokens in one operation.
    pub max_tokens: usize,
    /// Most directives written in one document.
    pub max_directives: usize,
    /// Most selections an operation may hold once every fragment spread is inlined. Counted
    /// before the fragments are expanded, so a fragment bomb is refused at once.
    pub max_selections: usize,
    /// Most pairs of fields sharing a response name (`{ a a a }` is 3) the validator would
    /// compare; the comparison is quadratic, so this bounds its CPU before it runs.
    pub max_field_pairs: usize,
    /// Most bytes of request headers (names and values) the router accepts.
    pub max_header_bytes: usize,
    /// Most bytes the subgraphs' answers to one client request may add up to.
    pub max_response_bytes: usize,
    /// Most operations in one batched request (a JSON array body); 0 refuses batches.
    pub max_batch_size: usize,
    /// Most `@defer` directives in one document. Each deferred fragment is executed as a plan
    /// of its own, so this bounds what one request can multiply its subgraph calls by.
    pub max_defers: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
            max_tokens: 5000,
            max_directives: 50,
            max_selections: 10_000,
            max_field_pairs: 100_000,
            max_header_bytes: 32 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_defers: 8,
            max_batch_size: 16,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorizationMode {
    #[default]
    Filter,
    Reject,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            subgraph_urls: BTreeMap::new(),
            supergraph_path: None,
            supergraph_poll_ms: 2000,
            plan_cache_size: 1000,
            subgraph_timeout_ms: 10_000,
            authorization: AuthorizationMode::Filter,
            csrf_prevention: true,
            apq_cache_size: 1000,
            limits: LimitsConfig::default(),
            introspection: true,
            ws_init_timeout_ms: 10_000,
            max_subscriptions_per_connection: 32,
            metrics_allow: vec!["127.0.0.1/32".parse().expect("a network"), "::1/128".parse().expect("a network")],
            cors: CorsConfig::default(),
            rate_limit: RateLimitConfig::default(),
            traffic: TrafficConfig::default(),
            response_cache_entries: 1000,
            web_dir: PathBuf::from("examples/web/dist"),
            tls: None,
        }
    }
}
