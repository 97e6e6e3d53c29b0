//! The response cache: whole responses to anonymous queries, kept as long as every subgraph
//! that contributed allowed (async-graphql's cache hints, sent as `Cache-Control: max-age`).
//!
//! Only anonymous callers are served from it: a signed-in caller's answer may depend on who
//! they are. Responses with errors are never cached. It lives in memory (bounded LRU), or in
//! Redis when configured, so replicas share it.

use std::{
    num::NonZeroUsize,
    sync::Mutex,
    time::{Duration, Instant},
};

use lru::LruCache;
use serde_json::Value;

pub enum ResponseCache {
    Off,
    Memory(Mutex<LruCache<u64, (Instant, Value)>>),
    Redis { conn: redis::aio::ConnectionManager, prefix: String },
}

impl ResponseCache {
    pub fn memory(entries: usize) -> Self {
        match NonZeroUsize::new(entries) {
            Some(n) => Self::Memory(Mutex::new(LruCache::new(n))),
            None => Self::Off,
        }
    }

    pub async fn redis(url: &str, namespace: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager())
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to Redis for the response cache"))??;
        Ok(Self::Redis { conn, prefix: format!("{namespace}:responses:") })
    }

    pub async fn get(&self, key: u64) -> Option<Value> {
        match self {
            Self::Off => None,
            Self::Memory(cache) => {
                let mut cache = cache.lock().expect("response cache lock poisoned");
                match cache.get(&key) {
                    Some((until, body)) if *until > Instant::now() => Some(body.clone()),
                    Some(_) => {
                        cache.pop(&key);
                        None
                    }
                    None => None,
                }
            }
            Self::Redis { conn, prefix } => {
                let raw: Option<String> =
                    redis::AsyncCommands::get(&mut conn.clone(), format!("{prefix}{key:x}")).await.ok().flatten();
                raw.and_then(|r| serde_json::from_str(&r).ok())
            }
        }
    }

    pub async fn put(&self, key: u64, body: &Value, max_age: u64) {
        match self {
            Self::Off => {}
            Self::Memory(cache) => {
                let until = Instant::now() + Duration::from_secs(max_age);
                cache.lock().expect("response cache lock poisoned").put(key, (until, body.clone()));
            }
            Self::Redis { conn, prefix } => {
                let stored: redis::RedisResult<()> = redis::AsyncCommands::set_ex(
                    &mut conn.clone(),
                    format!("{prefix}{key:x}"),
                    body.to_string(),
                    max_age,
                )
                .await;
                if let Err(e) = stored {
                    tracing::warn!(error = %e, "cannot store a response in Redis");
                }
            }
        }
    }
}
