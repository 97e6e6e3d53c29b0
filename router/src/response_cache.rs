//! The response cache: whole responses to anonymous queries, kept as long as every subgraph
//! that contributed allowed (async-graphql's cache hints, sent as `Cache-Control: max-age`).
//!
//! Only anonymous callers are served from it: a signed-in caller's answer may depend on who
//! they are. Responses with errors are never cached. It lives in memory (bounded LRU), or in
//! Redis when configured, so replicas share it. Keys are SHA-256 digests of the operation and
//! its variables (`cache_key`), compared in full, so no collision serves one query's answer to
//! another.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::cache_key::{Cache, Digest, Lookup, cache};

pub enum ResponseCache {
    Off,
    Memory(Mutex<Cache<(Instant, Value)>>),
    Redis { conn: redis::aio::ConnectionManager, prefix: String },
}

impl ResponseCache {
    pub fn memory(entries: usize) -> Self {
        Self::memory_with(entries, Lookup::default())
    }

    /// An in-memory cache with the lookup hasher chosen (tests force collisions).
    pub fn memory_with(entries: usize, lookup: Lookup) -> Self {
        if entries == 0 {
            return Self::Off;
        }
        Self::Memory(Mutex::new(cache(entries, lookup)))
    }

    pub async fn redis(url: &str, namespace: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager())
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to Redis for the response cache"))??;
        Ok(Self::Redis { conn, prefix: format!("{namespace}:responses:") })
    }

    pub async fn get(&self, key: &Digest) -> Option<Value> {
        match self {
            Self::Off => None,
            Self::Memory(cache) => {
                let mut cache = cache.lock().expect("response cache lock poisoned");
                match cache.get(key) {
                    Some((until, body)) if *until > Instant::now() => Some(body.clone()),
                    Some(_) => {
                        cache.pop(key);
                        None
                    }
                    None => None,
                }
            }
            Self::Redis { conn, prefix } => {
                let raw: Option<String> =
                    redis::AsyncCommands::get(&mut conn.clone(), format!("{prefix}{}", key.hex())).await.ok().flatten();
                raw.and_then(|r| serde_json::from_str(&r).ok())
            }
        }
    }

    pub async fn put(&self, key: &Digest, body: &Value, max_age: u64) {
        match self {
            Self::Off => {}
            Self::Memory(cache) => {
                let until = Instant::now() + Duration::from_secs(max_age);
                cache.lock().expect("response cache lock poisoned").put(*key, (until, body.clone()));
            }
            Self::Redis { conn, prefix } => {
                let stored: redis::RedisResult<()> = redis::AsyncCommands::set_ex(
                    &mut conn.clone(),
                    format!("{prefix}{}", key.hex()),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn responses_whose_lookup_hashes_collide_are_never_served_for_each_other() {
        let cache = ResponseCache::memory_with(10, Lookup::Colliding);
        let (a, b) = (Digest::of(&[b"{ a }", b"{}"]), Digest::of(&[b"{ b }", b"{}"]));
        cache.put(&a, &json!({ "data": { "a": 1 } }), 60).await;
        assert_eq!(cache.get(&b).await, None, "b was never stored");
        cache.put(&b, &json!({ "data": { "b": 2 } }), 60).await;
        assert_eq!(cache.get(&a).await, Some(json!({ "data": { "a": 1 } })));
        assert_eq!(cache.get(&b).await, Some(json!({ "data": { "b": 2 } })));
    }
}
