//! Sending GraphQL requests to subgraphs, resiliently:
//! - several endpoints per subgraph (replicas), chosen round-robin, skipping those whose
//!   circuit breaker is open;
//! - retries with backoff on another endpoint, for queries only: a mutation that timed out may
//!   have happened, so it is never sent twice;
//! - per-subgraph timeouts;
//! - identical queries in flight at once (same subgraph, operation, variables and caller) share
//!   one request;
//! - a bound on each answer's size, read as it streams in, so a subgraph cannot make the router
//!   hold more than `max_response_bytes` for it.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use serde_json::Value;
use tessera_kit::config::TrafficConfig;

use tessera_kit::resilience::Breaker;

use super::{
    Forward,
    body::read_body,
    transport::{Broken, Transport},
};
use crate::{cache_key::Digest, data::Data};

/// Why a subgraph gave no usable answer. Never carries internals to the client.
#[derive(Debug, Clone)]
pub struct SubgraphFailure {
    pub service: String,
    pub reason: String,
    /// The answer was larger than the router holds for one response (this many bytes).
    pub too_large: Option<usize>,
}

/// Sends GraphQL requests to subgraphs by name.
pub struct SubgraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    /// Swapped whole when a reloaded supergraph moves a subgraph (see [`SubgraphClient::set_urls`]).
    endpoints: std::sync::RwLock<HashMap<String, Arc<Endpoints>>>,
    traffic: TrafficConfig,
    default_timeout: Duration,
    metrics: Arc<crate::metrics::Metrics>,
    /// Keyed by a digest of everything that can change the answer (the service, operation,
    /// variables and credentials), compared in full: a collision cannot share an answer.
    in_flight: Mutex<HashMap<Digest, InFlight>>,
    max_response_bytes: usize,
    /// Subscriptions' connections to subgraphs.
    upstreams: super::upstream::Upstreams,
}

/// A subgraph request that identical queries can wait on together.
type InFlight = Shared<BoxFuture<'static, Result<Answer, SubgraphFailure>>>;

/// A subgraph's GraphQL response, and how long it may be cached (its public `max-age`, when
/// it sent one).
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its `data` member (None when it had none; `Data::Null` when it was null).
    pub data: Option<Data>,
    pub errors: Vec<Value>,
    pub max_age: Option<u64>,
    /// The entities it holds, from its `Cache-Tag` header (see `tessera_kit::cache_tags`).
    pub tags: Tags,
    /// The body's size on the wire.
    pub bytes: usize,
}

/// The entities a subgraph answer says it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tags {
    /// No `Cache-Tag` header.
    #[default]
    None,
    Listed(Arc<[String]>),
    /// More than anyone should keep (`*`, or past [`MAX_TAGS`]): not cacheable by tag.
    TooMany,
}

/// Most tags kept of one answer.
pub const MAX_TAGS: usize = 1000;

impl Tags {
    pub fn parse(headers: &http::HeaderMap) -> Self {
        let mut tags = Vec::new();
        for value in headers.get_all(tessera_kit::cache_tags::HEADER) {
            let Ok(text) = value.to_str() else { return Tags::TooMany };
            for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" || tag.len() > 256 || tags.len() == MAX_TAGS {
                    return Tags::TooMany;
                }
                tags.push(tag.to_owned());
            }
        }
        if tags.is_empty() { Tags::None } else { Tags::Listed(tags.into()) }
    }
}

struct Endpoints {
    replicas: Vec<Replica>,
    next: AtomicUsize,
}

struct Replica {
    url: url::Url,
    /// `url` as the HTTP client takes it, converted once.
    uri: http::Uri,
    breaker: Breaker,
}

impl Endpoints {
    fn new(urls: Vec<url::Url>) -> Self {
        let replicas = urls
            .into_iter()
            .filter_map(|url| match url.as_str().parse() {
                Ok(uri) => Some(Replica { uri, url, breaker: Breaker::default() }),
                // `url` percent-encodes what a URI may not hold, so this is not expected; such an
                // endpoint would fail every request, so it is left out, and said.
                Err(e) => {
                    tracing::warn!(url = %url, error = %e, "a subgraph URL that is no HTTP URI is left out");
                    None
                }
            })
            .collect();
        Self { replicas, next: AtomicUsize::new(0) }
    }

    /// The next endpoint in turn whose breaker lets a request through.
    fn pick(&self) -> Option<&Replica> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|i| &self.replicas[(start + i) % n]).find(|r| r.breaker.allow())
    }
}

impl SubgraphClient {
    /// `urls` maps each subgraph name (lower case) to its GraphQL endpoints, primary first.
    pub fn new(
        urls: HashMap<String, Vec<url::Url>>,
        default_timeout: Duration,
        traffic: TrafficConfig,
        metrics: Arc<crate::metrics::Metrics>,
        max_response_bytes: usize,
        tls: rustls::ClientConfig,
    ) -> Self {
        let endpoints = urls.into_iter().map(|(name, urls)| (name, Arc::new(Endpoints::new(urls)))).collect();
        let upstreams = super::upstream::Upstreams::new(max_response_bytes, metrics.subscription_connections.clone());
        let inner = Inner {
            transport: Transport::new(tls),
            endpoints: std::sync::RwLock::new(endpoints),
            traffic,
            default_timeout,
            metrics,
            in_flight: Mutex::new(HashMap::new()),
            max_response_bytes,
            upstreams,
        };
        Self { inner: Arc::new(inner) }
    }

    /// Points the client at `urls` (a reloaded supergraph's). A subgraph whose endpoints did not
    /// change keeps its breakers and turn; requests in flight finish where they started.
    pub fn set_urls(&self, urls: HashMap<String, Vec<url::Url>>) {
        let mut endpoints = self.inner.endpoints.write().expect("endpoints lock poisoned");
        let next = urls
            .into_iter()
            .map(|(name, urls)| {
                let kept = endpoints.get(&name).filter(|e| e.replicas.iter().map(|r| &r.url).eq(urls.iter()));
                let entry = kept.cloned().unwrap_or_else(|| Arc::new(Endpoints::new(urls)));
                (name, entry)
            })
            .collect();
        *endpoints = next;
    }

    /// The most bytes of subgraph answers one client request may hold.
    /// Subscribes `query` at the websocket endpoint `url` for the caller holding `token`, on that
    /// caller's connection to it (see `upstream`).
    pub fn subscribe(
        &self,
        url: &url::Url,
        token: Option<Arc<str>>,
        query: String,
        variables: Value,
    ) -> super::upstream::Subscription {
        self.inner.upstreams.subscribe(url, token, query, variables)
    }

    pub fn max_response_bytes(&self) -> usize {
        self.inner.max_response_bytes
    }

    /// Posts one operation and returns the GraphQL response body. `variables` is the JSON text
    /// of the variables object. `is_query` allows retries and sharing with identical requests in
    /// flight.
    pub async fn send(
        &self,
        service: &str,
        query: &str,
        variables: String,
        forward: &Forward,
        is_query: bool,
    ) -> Result<Answer, SubgraphFailure> {
        let name = service.to_lowercase();
        let timer = self.inner.metrics.fetch_seconds.with_label_values(&[name.as_str()]).start_timer();
        // A child span of the request's span, so each fetch shows in traces with its subgraph.
        let span = tracing::info_span!("subgraph fetch", subgraph = %name);
        let result = if is_query && self.inner.traffic.dedup {
            tracing::Instrument::instrument(
                self.shared(name.clone(), query.to_owned(), variables, forward.clone()),
                span,
            )
            .await
        } else {
            let sending = self.inner.clone().send_with_retries(
                name.clone(),
                query.to_owned(),
                variables,
                forward.clone(),
                is_query,
            );
            tracing::Instrument::instrument(sending, span).await
        };
        timer.observe_duration();
        if result.is_err() {
            self.inner.metrics.fetch_errors.with_label_values(&[name.as_str()]).inc();
        }
        result
    }

    async fn shared(
        &self,
        service: String,
        query: String,
        variables: String,
        forward: Forward,
    ) -> Result<Answer, SubgraphFailure> {
        let key = {
            // Different callers must never share answers: the credentials are part of the key.
            let authorization = forward
                .0
                .iter()
                .find(|(name, _)| name == http::header::AUTHORIZATION)
                .map_or(&[][..], |(_, value)| value.as_bytes());
            Digest::of(&[service.as_bytes(), query.as_bytes(), variables.as_bytes(), authorization])
        };
        let future = {
            let mut in_flight = self.inner.in_flight.lock().expect("in-flight lock poisoned");
            match in_flight.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let inner = self.inner.clone();
                    let f = async move {
                        let result = inner.clone().send_with_retries(service, query, variables, forward, true).await;
                        inner.in_flight.lock().expect("in-flight lock poisoned").remove(&key);
                        result
                    }
                    .boxed()
                    .shared();
                    in_flight.insert(key, f.clone());
                    f
                }
            }
        };
        future.await
    }
}

impl Inner {
    async fn send_with_retries(
        self: Arc<Self>,
        service: String,
        query: String,
        variables: String,
        forward: Forward,
        is_query: bool,
    ) -> Result<Answer, SubgraphFailure> {
        // The request body is written once, whatever the number of attempts.
        let body = request_body(&query, &variables);
        let fail =
            |reason: &str| SubgraphFailure { service: service.clone(), reason: reason.to_owned(), too_large: None };
        let endpoints = self.endpoints.read().expect("endpoints lock poisoned").get(&service).cloned();
        let endpoints = endpoints.ok_or_else(|| fail("no URL is configured for it"))?;
        let attempts = if is_query { 1 + self.traffic.retries } else { 1 };
        let timeout =
            self.traffic.timeouts_ms.get(&service).map_or(self.default_timeout, |ms| Duration::from_millis(*ms));
        let mut last = fail("it is temporarily disabled after repeated failures");
        for attempt in 0..attempts {
            if attempt > 0 {
                let base = Duration::from_millis(self.traffic.retry_backoff_ms);
                tokio::time::sleep(tessera_kit::resilience::delay(attempt, base, base * 64)).await;
            }
            let Some(replica) = endpoints.pick() else { return Err(last) };
            let outcome = self.post(&replica.uri, &body, &forward, timeout).await;
            let breaker = &replica.breaker;
            match outcome {
                Ok(body) => {
                    breaker.success();
                    return Ok(body);
                }
                Err(Failed::TooLarge) => {
                    // The subgraph is healthy; the answer is the problem, and a retry would be the same.
                    breaker.success();
                    return Err(SubgraphFailure {
                        too_large: Some(self.max_response_bytes),
                        ..fail("its answer is larger than the router holds for one response")
                    });
                }
                Err(Failed::Other(reason)) => {
                    breaker.failure(self.traffic.breaker_failures, Duration::from_millis(self.traffic.breaker_open_ms));
                    tracing::warn!(service, url = %replica.url, attempt, reason, "subgraph request failed");
                    last = fail(reason);
                }
            }
        }
        Err(last)
    }

    async fn post(
        &self,
        uri: &http::Uri,
        body: &bytes::Bytes,
        forward: &Forward,
        timeout: Duration,
    ) -> Result<Answer, Failed> {
        // The subgraph continues this request's trace.
        let traceparent = tessera_kit::telemetry::traceparent();
        let exchange = self.transport.post(uri, body.clone(), &forward.0, traceparent, self.max_response_bytes);
        // One deadline for the whole exchange, the body's last byte included.
        let reply = match tokio::time::timeout(timeout, exchange).await {
            Err(_) => return Err(Failed::Other("it timed out")),
            Ok(Err(Broken::Unreachable)) => return Err(Failed::Other("it could not be reached")),
            Ok(Err(Broken::TooLarge)) => return Err(Failed::TooLarge),
            Ok(Ok(reply)) => reply,
        };
        let max_age =
            reply.headers.get(http::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(public_max_age);
        let tags = Tags::parse(&reply.headers);
        let body = read_body(&reply.body).ok_or(Failed::Other("it answered without a GraphQL body"))?;
        if body.data.is_none() && body.errors.is_none() {
            return Err(Failed::Other("it answered without data or errors"));
        }
        Ok(Answer { data: body.data, errors: body.errors.unwrap_or_default(), max_age, tags, bytes: reply.body.len() })
    }
}

/// `{"query": …, "variables": …}` with the variables' JSON text as it is.
fn request_body(query: &str, variables: &str) -> bytes::Bytes {
    let mut out = Vec::with_capacity(query.len() + variables.len() + 32);
    out.extend_from_slice(b"{\"query\":");
    serde_json::to_writer(&mut out, query).expect("a string always serializes");
    out.extend_from_slice(b",\"variables\":");
    out.extend_from_slice(variables.as_bytes());
    out.push(b'}');
    out.into()
}

/// Why one attempt failed.
enum Failed {
    TooLarge,
    Other(&'static str),
}

/// `max-age=N` of a public `Cache-Control` value; None for private or uncacheable ones.
fn public_max_age(value: &str) -> Option<u64> {
    let directives: Vec<&str> = value.split(',').map(str::trim).collect();
    if directives.iter().any(|d| ["private", "no-cache", "no-store"].contains(d)) {
        return None;
    }
    directives.iter().find_map(|d| d.strip_prefix("max-age=")?.parse().ok()).filter(|age| *age > 0)
}
