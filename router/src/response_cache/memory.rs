//! The in-process response cache: an LRU of responses, an index from tag to the responses
//! holding it, and the recent invalidations, all under one lock so a store and an
//! invalidation cannot interleave.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{REMEMBER_DROPS, Stored};
use crate::cache_key::{Cache, Digest, Lookup, cache};

struct Entry {
    until: Instant,
    body: Value,
    tags: Vec<String>,
}

struct Inner {
    entries: Cache<Entry>,
    by_tag: HashMap<String, HashSet<Digest>>,
    dropped: HashMap<String, Instant>,
}

pub struct Memory(Mutex<Inner>);

impl Memory {
    pub fn new(entries: usize, lookup: Lookup) -> Self {
        Self(Mutex::new(Inner { entries: cache(entries, lookup), by_tag: HashMap::new(), dropped: HashMap::new() }))
    }

    pub fn get(&self, key: &Digest) -> Option<Value> {
        let mut inner = self.0.lock().expect("response cache lock poisoned");
        match inner.entries.get(key) {
            Some(entry) if entry.until > Instant::now() => Some(entry.body.clone()),
            Some(_) => {
                inner.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: &Digest, stored: Stored<'_>) {
        let mut inner = self.0.lock().expect("response cache lock poisoned");
        if stored.tags.iter().any(|t| inner.dropped.get(t).is_some_and(|at| *at >= stored.started)) {
            return;
        }
        inner.remove(key);
        let entry = Entry {
            until: Instant::now() + Duration::from_secs(stored.max_age),
            body: stored.body.clone(),
            tags: stored.tags.to_vec(),
        };
        for tag in &entry.tags {
            inner.by_tag.entry(tag.clone()).or_default().insert(*key);
        }
        if let Some((evicted, old)) = inner.entries.push(*key, entry)
            && evicted != *key
        {
            inner.unindex(&evicted, &old.tags);
        }
    }

    pub fn invalidate(&self, tags: &[String]) -> usize {
        let mut inner = self.0.lock().expect("response cache lock poisoned");
        let now = Instant::now();
        inner.dropped.retain(|_, at| now.duration_since(*at) < REMEMBER_DROPS);
        let mut dropped = 0;
        for tag in tags {
            inner.dropped.insert(tag.clone(), now);
            for key in inner.by_tag.remove(tag).unwrap_or_default() {
                dropped += usize::from(inner.remove(&key));
            }
        }
        dropped
    }
}

impl Inner {
    /// Removes one response and its index entries; whether it was there.
    fn remove(&mut self, key: &Digest) -> bool {
        match self.entries.pop(key) {
            Some(entry) => {
                self.unindex(key, &entry.tags);
                true
            }
            None => false,
        }
    }

    fn unindex(&mut self, key: &Digest, tags: &[String]) {
        for tag in tags {
            if let Some(keys) = self.by_tag.get_mut(tag) {
                keys.remove(key);
                if keys.is_empty() {
                    self.by_tag.remove(tag);
                }
            }
        }
    }
}
