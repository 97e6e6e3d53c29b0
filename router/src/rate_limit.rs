//! Rate limiting: a token bucket per client IP and per user.
//!
//! Buckets live in memory by default. With Redis configured they live in Redis (one Lua script
//! per check, so the read-modify-write is atomic), and every router replica shares one budget.
//! A refused request gets 429, `RATE_LIMITED` and a `Retry-After` saying when a token will be
//! back. If Redis cannot be reached, requests are let through (logged): the limiter must not take
//! the whole API down with it.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use tessera_kit::config::BucketConfig;

pub struct RateLimiter {
    store: Store,
}

enum Store {
    Memory(Mutex<HashMap<String, Bucket>>),
    Redis { conn: redis::aio::ConnectionManager, prefix: String },
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Most buckets kept in memory before idle (full) ones are dropped.
const MEMORY_BUCKETS: usize = 100_000;

/// The bucket script: refills by elapsed time, takes one token if there is one, and answers
/// `{allowed, milliseconds until the next token}`.
const SCRIPT: &str = r#"
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) / 1000 * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, wait}
"#;

impl RateLimiter {
    pub fn in_memory() -> Self {
        Self { store: Store::Memory(Mutex::new(HashMap::new())) }
    }

    pub async fn redis(url: &str, namespace: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager())
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to Redis for rate limits"))??;
        Ok(Self { store: Store::Redis { conn, prefix: format!("{namespace}:ratelimit:") } })
    }

    /// Takes one token from `key`'s bucket, or says how long until one is back.
    pub async fn check(&self, key: &str, rule: &BucketConfig) -> Result<(), Duration> {
        if rule.per_second <= 0.0 {
            return Ok(()); // a zero rate turns the rule off
        }
        match &self.store {
            Store::Memory(buckets) => check_memory(buckets, key, rule),
            Store::Redis { conn, prefix } => {
                let now = chrono::Utc::now().timestamp_millis();
                let reply: redis::RedisResult<(i64, i64)> = redis::Script::new(SCRIPT)
                    .key(format!("{prefix}{key}"))
                    .arg(rule.capacity)
                    .arg(rule.per_second)
                    .arg(now)
                    .invoke_async(&mut conn.clone())
                    .await;
                match reply {
                    Ok((1, _)) => Ok(()),
                    Ok((_, wait_ms)) => Err(Duration::from_millis(wait_ms.max(1) as u64)),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limiter cannot reach Redis; letting the request through");
                        Ok(())
                    }
                }
            }
        }
    }
}

fn check_memory(buckets: &Mutex<HashMap<String, Bucket>>, key: &str, rule: &BucketConfig) -> Result<(), Duration> {
    let now = Instant::now();
    let mut buckets = buckets.lock().expect("rate limiter lock poisoned");
    if buckets.len() >= MEMORY_BUCKETS {
        // Drop buckets that have refilled completely: forgetting them changes nothing.
        buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rule.per_second < rule.capacity);
    }
    let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: rule.capacity, at: now });
    bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rule.per_second).min(rule.capacity);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        Ok(())
    } else {
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rule.per_second))
    }
}

/// Middleware: one token per request from the client IP's bucket.
pub(crate) async fn per_ip(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::RouterState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let ip = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    match state.rate_limiter.check(&format!("ip:{ip}"), &state.rate_limits.per_ip).await {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            crate::error::Refusal::from(crate::error::RouterError::RateLimited { retry_after }).response(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bucket_allows_its_capacity_then_refuses_with_the_wait_until_the_next_token() {
        let limiter = RateLimiter::in_memory();
        let rule = BucketConfig { capacity: 3.0, per_second: 2.0 };
        for _ in 0..3 {
            assert!(limiter.check("ip:1", &rule).await.is_ok());
        }
        let wait = limiter.check("ip:1", &rule).await.expect_err("the fourth is refused");
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500), "{wait:?}");
        assert!(limiter.check("ip:2", &rule).await.is_ok(), "another key has its own bucket");
    }
}
