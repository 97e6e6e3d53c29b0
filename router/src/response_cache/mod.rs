//! The response cache: whole responses to anonymous queries, kept as long as every subgraph
//! that contributed allowed (async-graphql's cache hints, sent as `Cache-Control: max-age`),
//! and dropped as soon as an entity they hold changes.
//!
//! Only anonymous callers are served from it: a signed-in caller's answer may depend on who
//! they are. Responses with errors are never cached. It lives in memory (bounded LRU), or in
//! Redis when configured, so replicas share it. Keys are SHA-256 digests of the operation and
//! its variables (`cache_key`), compared in full, so no collision serves one query's answer to
//! another.
//!
//! Invalidation: each response is stored with the entity tags of its subgraph answers
//! (`Cache-Tag`, see `tessera_kit::cache_tags`), indexed by tag. An event naming an entity
//! (`invalidation.rs`) drops every response holding it. A response whose execution began
//! before an invalidation of one of its tags is not stored: it may hold the old value. (What
//! tags cannot catch is a list that would now hold an entity it did not: such a list stays
//! until its `max-age` runs out.)

mod memory;
mod redis_store;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cache_key::{Digest, Lookup};

/// How long an invalidation is remembered, to refuse responses computed before it: longer than
/// any execution runs.
const REMEMBER_DROPS: Duration = Duration::from_secs(300);

pub enum ResponseCache {
    Off,
    Memory(memory::Memory),
    Redis(redis_store::RedisStore),
}

/// What a response to store holds, and when its execution began.
pub struct Stored<'a> {
    pub body: &'a Value,
    pub max_age: u64,
    pub tags: &'a [String],
    pub started: Instant,
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
        Self::Memory(memory::Memory::new(entries, lookup))
    }

    pub async fn redis(url: &str, namespace: &str) -> anyhow::Result<Self> {
        Ok(Self::Redis(redis_store::RedisStore::connect(url, namespace).await?))
    }

    pub async fn get(&self, key: &Digest) -> Option<Value> {
        match self {
            Self::Off => None,
            Self::Memory(m) => m.get(key),
            Self::Redis(r) => r.get(key).await,
        }
    }

    pub async fn put(&self, key: &Digest, stored: Stored<'_>) {
        match self {
            Self::Off => {}
            Self::Memory(m) => m.put(key, stored),
            Self::Redis(r) => r.put(key, stored).await,
        }
    }

    /// Drops every response holding one of `tags`; returns how many (Redis: as it counted).
    pub async fn invalidate(&self, tags: &[String]) -> usize {
        match self {
            Self::Off => 0,
            Self::Memory(m) => m.invalidate(tags),
            Self::Redis(r) => r.invalidate(tags).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored<'a>(body: &'a Value, tags: &'a [String]) -> Stored<'a> {
        Stored { body, max_age: 60, tags, started: Instant::now() }
    }

    #[tokio::test]
    async fn responses_whose_lookup_hashes_collide_are_never_served_for_each_other() {
        let cache = ResponseCache::memory_with(10, Lookup::Colliding);
        let (a, b) = (Digest::of(&[b"{ a }", b"{}"]), Digest::of(&[b"{ b }", b"{}"]));
        cache.put(&a, stored(&json!({ "data": { "a": 1 } }), &[])).await;
        assert_eq!(cache.get(&b).await, None, "b was never stored");
        cache.put(&b, stored(&json!({ "data": { "b": 2 } }), &[])).await;
        assert_eq!(cache.get(&a).await, Some(json!({ "data": { "a": 1 } })));
        assert_eq!(cache.get(&b).await, Some(json!({ "data": { "b": 2 } })));
    }

    #[tokio::test]
    async fn an_invalidated_tag_drops_the_responses_holding_it_and_only_those() {
        let cache = ResponseCache::memory(10);
        let (a, b) = (Digest::of(&[b"a"]), Digest::of(&[b"b"]));
        let body = json!({ "data": {} });
        cache.put(&a, stored(&body, &["Product:1".into(), "Product:2".into()])).await;
        cache.put(&b, stored(&body, &["Product:2".into(), "Product:3".into()])).await;
        assert_eq!(cache.invalidate(&["Product:1".into()]).await, 1);
        assert_eq!(cache.get(&a).await, None);
        assert!(cache.get(&b).await.is_some(), "b does not hold Product:1");
        assert_eq!(cache.invalidate(&["Product:3".into()]).await, 1);
        assert_eq!(cache.get(&b).await, None);
    }

    #[tokio::test]
    async fn a_response_computed_before_an_invalidation_of_its_tags_is_not_stored() {
        let cache = ResponseCache::memory(10);
        let key = Digest::of(&[b"late"]);
        let started = Instant::now();
        cache.invalidate(&["Product:1".into()]).await;
        let body = json!({ "data": {} });
        let tags = ["Product:1".to_owned()];
        cache.put(&key, Stored { body: &body, max_age: 60, tags: &tags, started }).await;
        assert_eq!(cache.get(&key).await, None, "it may hold the old product");
    }
}
