//! The response cache in Redis, shared by router replicas: each response under its digest, a
//! set per tag naming the responses that hold it, and a marker per recent invalidation.
//!
//! A store and an invalidation may run at once on two replicas. The store writes the response
//! and adds it to its tags' sets, then reads the markers; the invalidation writes its marker,
//! then empties the tag's set. Redis runs commands one at a time, so one of the two sees the
//! other's write: either the invalidation finds the new response, or the store finds the
//! marker and deletes what it wrote.

use std::time::Duration;

use redis::AsyncCommands;
use serde_json::Value;

use super::{REMEMBER_DROPS, Stored};
use crate::cache_key::Digest;

pub struct RedisStore {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl RedisStore {
    pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager())
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to Redis for the response cache"))??;
        Ok(Self { conn, prefix: format!("{namespace}:responses:") })
    }

    fn key(&self, key: &Digest) -> String {
        format!("{}{}", self.prefix, key.hex())
    }

    fn tag_set(&self, tag: &str) -> String {
        format!("{}tag:{tag}", self.prefix)
    }

    fn marker(&self, tag: &str) -> String {
        format!("{}dropped:{tag}", self.prefix)
    }

    pub async fn get(&self, key: &Digest) -> Option<Value> {
        let raw: Option<String> = self.conn.clone().get(self.key(key)).await.ok().flatten();
        raw.and_then(|r| serde_json::from_str(&r).ok())
    }

    pub async fn put(&self, key: &Digest, stored: Stored<'_>) {
        let started_ms = now_ms() - i64::try_from(stored.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let name = self.key(key);
        let mut pipe = redis::pipe();
        pipe.set_ex(&name, stored.body.to_string(), stored.max_age).ignore();
        for tag in stored.tags {
            let set = self.tag_set(tag);
            pipe.sadd(&set, &name).ignore();
            // The set lives as long as its longest-lived response: NX gives a new set a TTL,
            // GT only ever lengthens it.
            pipe.cmd("EXPIRE").arg(&set).arg(stored.max_age).arg("NX").ignore();
            pipe.cmd("EXPIRE").arg(&set).arg(stored.max_age).arg("GT").ignore();
        }
        let mut conn = self.conn.clone();
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "cannot store a response in Redis");
            return;
        }
        if stored.tags.is_empty() {
            return;
        }
        let markers: Vec<String> = stored.tags.iter().map(|t| self.marker(t)).collect();
        let dropped: Vec<Option<i64>> = match redis::cmd("MGET").arg(&markers).query_async(&mut conn).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a cached response against invalidations; dropping it");
                vec![Some(i64::MAX)]
            }
        };
        if dropped.into_iter().flatten().any(|at| at >= started_ms) {
            let _: redis::RedisResult<()> = conn.del(&name).await;
        }
    }

    pub async fn invalidate(&self, tags: &[String]) -> usize {
        let mut conn = self.conn.clone();
        let mut dropped = 0;
        for tag in tags {
            let set = self.tag_set(tag);
            let marked: redis::RedisResult<()> =
                conn.set_ex(self.marker(tag), now_ms(), REMEMBER_DROPS.as_secs()).await;
            let members: redis::RedisResult<Vec<String>> = conn.smembers(&set).await;
            match (marked, members) {
                (Ok(()), Ok(members)) => {
                    if !members.is_empty() {
                        dropped += conn.del::<_, usize>(&members).await.unwrap_or(0);
                    }
                    let _: redis::RedisResult<()> = conn.del(&set).await;
                }
                (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, tag, "cannot invalidate cached responses"),
            }
        }
        dropped
    }
}
