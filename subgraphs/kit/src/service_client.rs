//! One service calling another subgraph directly (DESIGN.md, "Services calling services"): a
//! client-credentials token from the auth subgraph, kept until near its expiry; a timeout per
//! attempt and a deadline per call; jittered exponential retries on transient failures
//! (connect errors, timeouts, 5xx, an `INTERNAL` answer); and a circuit breaker, so that while
//! the other service is down calls fail at once with how long to wait instead of each sitting
//! out its timeouts.
//!
//! Only idempotent calls may go through it: a timed-out attempt may have happened, and is sent
//! again. The caller makes its calls idempotent (a reservation keyed by the order id).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::{
    config::{CallConfig, Config},
    resilience::{Breaker, delay},
    service_auth,
};

/// Largest answer read from another service.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// How a call failed.
#[derive(Debug, Clone)]
pub enum CallError {
    /// Not answered within the deadline, or refused at once because the breaker is open.
    /// `retry_after` is how long until another try has a chance.
    Unavailable { retry_after: Duration, reason: String },
    /// Answered with GraphQL errors: an answer, so never retried.
    Refused(Vec<Value>),
}

impl CallError {
    /// The first error's `extensions.code`, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Refused(errors) => errors.first()?.pointer("/extensions/code")?.as_str(),
            CallError::Unavailable { .. } => None,
        }
    }

    /// The first error's `extensions`, if the service answered with errors.
    pub fn extensions(&self) -> Option<&Value> {
        match self {
            CallError::Refused(errors) => errors.first()?.get("extensions"),
            CallError::Unavailable { .. } => None,
        }
    }
}

/// What one attempt came to.
enum Attempt {
    Answer(Value),
    Refused(Vec<Value>),
    /// Worth another attempt.
    Transient(String),
}

/// A client for one target subgraph, cheap to clone (one breaker and token cache for all clones).
#[derive(Clone)]
pub struct ServiceClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    caller: &'static str,
    target: &'static str,
    graphql_url: url::Url,
    token_url: url::Url,
    secret: SecretString,
    token: tokio::sync::Mutex<Option<Token>>,
    breaker: Breaker,
    policy: CallConfig,
}

struct Token {
    value: SecretString,
    renew_at: Instant,
}

impl ServiceClient {
    /// A client with which service `caller` calls subgraph `target`, both at their configured
    /// URLs (`<name>.url`).
    pub fn new(config: &Config, caller: &'static str, target: &'static str) -> anyhow::Result<Self> {
        let graphql_url = config.subgraph_url(target).join("/graphql")?;
        let token_url = config.subgraph_url("auth").join("/oauth/token")?;
        Ok(Self {
            inner: Arc::new(Inner {
                http: reqwest::Client::builder()
                    .connect_timeout(Duration::from_millis(config.services.calls.attempt_timeout_ms))
                    .build()?,
                caller,
                target,
                graphql_url,
                token_url,
                secret: service_auth::client_secret(config, caller)?,
                token: tokio::sync::Mutex::new(None),
                breaker: Breaker::default(),
                policy: config.services.calls.clone(),
            }),
        })
    }

    /// Whether the breaker refuses calls now.
    pub fn is_open(&self) -> bool {
        self.inner.breaker.is_open()
    }

    /// Sends `query` with `variables`; the answer's `data` on success.
    pub async fn call(&self, query: &str, variables: Value) -> Result<Value, CallError> {
        let p = &self.inner.policy;
        let deadline = Instant::now() + Duration::from_millis(p.deadline_ms);
        let base = Duration::from_millis(p.retry_backoff_ms);
        let cap = Duration::from_millis(p.deadline_ms / 4).max(base);
        let open_for = Duration::from_millis(p.breaker_open_ms);
        let body = json!({ "query": query, "variables": variables });
        let mut attempt = 0;
        loop {
            if !self.inner.breaker.allow() {
                return Err(self.unavailable("it failed repeatedly, so calls are paused"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = left.min(Duration::from_millis(p.attempt_timeout_ms));
            let reason = match self.attempt(&body, timeout).await {
                Attempt::Answer(data) => {
                    self.inner.breaker.success();
                    return Ok(data);
                }
                Attempt::Refused(errors) => {
                    self.inner.breaker.success();
                    return Err(CallError::Refused(errors));
                }
                Attempt::Transient(reason) => reason,
            };
            self.inner.breaker.failure(p.breaker_failures, open_for);
            attempt += 1;
            tracing::warn!(
                caller = self.inner.caller,
                target = self.inner.target,
                attempt,
                reason,
                "service call failed"
            );
            let wait = delay(attempt, base, cap);
            if Instant::now() + wait >= deadline {
                return Err(self.unavailable(&reason));
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn unavailable(&self, reason: &str) -> CallError {
        let retry_after = self.inner.breaker.retry_after().unwrap_or(Duration::from_secs(1));
        CallError::Unavailable { retry_after, reason: format!("{}: {reason}", self.inner.target) }
    }

    async fn attempt(&self, body: &Value, timeout: Duration) -> Attempt {
        let token = match self.token(timeout).await {
            Ok(token) => token,
            Err(reason) => return Attempt::Transient(reason),
        };
        let sent = self
            .inner
            .http
            .post(self.inner.graphql_url.clone())
            .timeout(timeout)
            .bearer_auth(token.expose_secret())
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Attempt::Transient("timed out".into()),
            Err(e) => return Attempt::Transient(format!("unreachable ({})", chain(&e))),
        };
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The token was refused (a rotated key, a revocation): fetch a new one next time.
            *self.inner.token.lock().await = None;
            return Attempt::Transient("our service token was refused".into());
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Transient(format!("answered {status}"));
        }
        let answer = match read_json(response).await {
            Ok(v) => v,
            Err(reason) => return Attempt::Transient(reason),
        };
        match answer.get("errors").and_then(Value::as_array) {
            // The service's own failure (its database down, say), not a refusal: worth a retry.
            Some(errors) if errors.first().and_then(|e| e.pointer("/extensions/code")) == Some(&json!("INTERNAL")) => {
                Attempt::Transient("answered INTERNAL".into())
            }
            Some(errors) if !errors.is_empty() => Attempt::Refused(errors.clone()),
            _ if status.is_success() => Attempt::Answer(answer.get("data").cloned().unwrap_or(Value::Null)),
            _ => Attempt::Refused(vec![json!({ "message": format!("answered {status}") })]),
        }
    }

    /// A token for the target, fetched when none is kept or the kept one is near its end.
    /// One fetch at a time: calls arriving meanwhile wait for it rather than fetch their own.
    async fn token(&self, timeout: Duration) -> Result<SecretString, String> {
        let mut kept = self.inner.token.lock().await;
        if let Some(t) = kept.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.value.clone());
        }
        let response = self
            .inner
            .http
            .post(self.inner.token_url.clone())
            .timeout(timeout)
            .basic_auth(self.inner.caller, Some(self.inner.secret.expose_secret()))
            .form(&[("grant_type", "client_credentials"), ("audience", self.inner.target)])
            .send()
            .await
            .map_err(|e| format!("no service token: auth is unreachable ({})", chain(&e)))?;
        let status = response.status();
        let answer = read_json(response).await?;
        let (Some(value), true) = (answer["access_token"].as_str(), status.is_success()) else {
            return Err(format!("no service token: auth answered {status} {}", answer["error"]));
        };
        let lifetime = Duration::from_secs(answer["expires_in"].as_u64().unwrap_or(60));
        // Renew a minute early (half the lifetime for short ones), so no call carries a token
        // that expires on its way.
        let margin = (lifetime / 2).min(Duration::from_secs(60));
        let token = Token { value: SecretString::from(value.to_owned()), renew_at: Instant::now() + lifetime - margin };
        let value = token.value.clone();
        *kept = Some(token);
        Ok(value)
    }
}

/// The body as JSON, refusing more than [`MAX_ANSWER_BYTES`].
async fn read_json(mut response: reqwest::Response) -> Result<Value, String> {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err("its answer is too large".into());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err("timed out".into()),
            Err(e) => return Err(format!("its answer broke off ({})", chain(&e))),
        }
    }
    serde_json::from_slice(&bytes).map_err(|_| "its answer is not JSON".to_owned())
}

/// An error and its causes on one line (reqwest's own message leaves out the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
