//! Automatic persisted queries (Apollo's protocol). A client first sends only the SHA-256 of
//! its query; on `PERSISTED_QUERY_NOT_FOUND` it retries with the full query, which is stored
//! (after checking the hash) so the next requests can again send only the hash.

use std::{num::NonZeroUsize, sync::Mutex};

use lru::LruCache;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::RouterError;

pub struct PersistedQueries {
    queries: Mutex<LruCache<String, String>>,
}

impl PersistedQueries {
    pub fn new(capacity: usize) -> Self {
        Self { queries: Mutex::new(LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least one"))) }
    }

    /// The query to run, given the request's `query` and `extensions`. `Ok(None)` when the
    /// request uses no persisted query and has no query either.
    pub fn resolve(&self, query: Option<String>, extensions: Option<&Value>) -> Result<Option<String>, RouterError> {
        let Some(pq) = extensions.and_then(|e| e.get("persistedQuery")) else { return Ok(query) };
        if pq.get("version").and_then(Value::as_i64) != Some(1) {
            return Err(RouterError::PersistedQueryNotSupported);
        }
        let Some(hash) = pq.get("sha256Hash").and_then(Value::as_str).map(str::to_ascii_lowercase) else {
            return Err(RouterError::PersistedQueryNeedsHash);
        };
        match query.filter(|q| !q.is_empty()) {
            Some(query) => {
                let actual = hex(&Sha256::digest(query.as_bytes()));
                if actual != hash {
                    return Err(RouterError::PersistedQueryHashMismatch);
                }
                self.queries.lock().expect("APQ lock poisoned").put(hash, query.clone());
                Ok(Some(query))
            }
            None => match self.queries.lock().expect("APQ lock poisoned").get(&hash) {
                Some(query) => Ok(Some(query.clone())),
                None => Err(RouterError::PersistedQueryNotFound),
            },
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
