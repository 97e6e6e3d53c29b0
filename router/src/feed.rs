//! Shared subscription feeds: identical subscriptions of one caller share one upstream
//! subscription, and each event is executed once for all of them.
//!
//! Ten thousand browser tabs of one user listening to `notificationAdded` would otherwise hold
//! ten thousand websockets to the notifications subgraph, and run the rest of the plan (entity
//! fetches for `order { status }`) ten thousand times per event. Two subscriptions share a feed
//! only when everything that can change their events is equal: the normalized operation, the
//! variables, and the forwarded headers but the per-request ones (the caller's `Authorization`
//! among them; see `inflight::key`). So a feed never carries one caller's events to another.
//!
//! Each client still ends on its own: its token's expiry, its session's revocation, or leaving.
//! The feed (its task and upstream subscription) ends when its last client leaves, or when the
//! subgraph completes or refuses it, which every client of the feed then hears.
//!
//! Events are broadcast through a bounded buffer: a client too slow to keep up skips the events
//! it missed (counted in `tessera_router_subscription_events_skipped_total`) instead of holding
//! up the others or growing memory. Subscriptions are at-most-once already (no resume).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use bytes::Bytes;
use serde_json::Value;
use tokio::{sync::broadcast, task::AbortHandle};

use crate::cache_key::{Digest, Lookup};

/// Events one slow client may fall behind by before it skips some. Each feed reserves them at
/// once, and when every subscriber is someone else, each has a feed of its own. A client falls
/// behind the feed only once its connection's own outbox (64 messages) is full.
pub const BUFFER: usize = 16;

/// What a feed broadcasts. Bodies are shared, not copied, across its clients.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    /// A response as JSON text: serialized once, framed per client.
    Next(Bytes),
    /// The subgraph refused or ended the subscription with errors; nothing follows.
    Error(Arc<Vec<Value>>),
    Complete,
}

type Registry = Arc<Mutex<HashMap<Digest, Weak<Feed>, Lookup>>>;

/// The feeds running now, by key.
#[derive(Default)]
pub struct Feeds {
    by_key: Registry,
}

/// One running feed. Clients hold it; when the last one drops it, its task stops (which closes
/// the upstream subscription) and it leaves the registry.
pub struct Feed {
    tx: broadcast::Sender<FeedEvent>,
    task: Mutex<Option<AbortHandle>>,
    key: Digest,
    registry: Registry,
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().expect("feed lock poisoned").take() {
            task.abort();
        }
        // Only this feed's entry: a newer feed with the same key may have replaced it.
        let mut by_key = self.registry.lock().expect("feeds lock poisoned");
        if by_key.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            by_key.remove(&self.key);
        }
    }
}

/// Where a feed's task sends its events, and how it says it has ended.
pub struct Publisher {
    tx: broadcast::Sender<FeedEvent>,
    /// Its own feed, to leave the registry by (never upgraded under the registry's lock: a
    /// last reference dropped there would deadlock in `Feed::drop`).
    feed: Weak<Feed>,
    key: Digest,
    registry: Registry,
}

impl Publisher {
    /// Sends an event to every client of the feed.
    pub fn next(&self, body: &Value) {
        let text = serde_json::to_vec(body).expect("a JSON value always serializes");
        let _ = self.tx.send(FeedEvent::Next(text.into()));
    }

    /// Ends the feed with `last` (an error or completion). The feed leaves the registry first,
    /// so a client that joins from now on starts a new one instead of waiting on this.
    pub fn end(self, last: FeedEvent) {
        {
            let mut by_key = self.registry.lock().expect("feeds lock poisoned");
            if by_key.get(&self.key).is_some_and(|w| Weak::ptr_eq(w, &self.feed)) {
                by_key.remove(&self.key);
            }
        }
        let _ = self.tx.send(last);
    }
}

impl Feeds {
    /// Joins the running feed for `key`, or starts one with `start` (given the feed's
    /// publisher, it spawns the feed's task and returns its handle). The receiver sees every
    /// event sent after this call.
    pub fn join(
        &self,
        key: Digest,
        start: impl FnOnce(Publisher) -> AbortHandle,
    ) -> (Arc<Feed>, broadcast::Receiver<FeedEvent>, bool) {
        let mut by_key = self.by_key.lock().expect("feeds lock poisoned");
        if let Some(feed) = by_key.get(&key).and_then(Weak::upgrade) {
            let rx = feed.tx.subscribe();
            return (feed, rx, true);
        }
        let (tx, rx) = broadcast::channel(BUFFER);
        let feed = Arc::new(Feed { tx: tx.clone(), task: Mutex::new(None), key, registry: self.by_key.clone() });
        by_key.insert(key, Arc::downgrade(&feed));
        drop(by_key);
        let task = start(Publisher { tx, feed: Arc::downgrade(&feed), key, registry: self.by_key.clone() });
        *feed.task.lock().expect("feed lock poisoned") = Some(task);
        (feed, rx, false)
    }

    /// Feeds running now.
    #[cfg(test)]
    pub fn running(&self) -> usize {
        self.by_key.lock().expect("feeds lock poisoned").values().filter(|w| w.strong_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn idle(_: Publisher) -> AbortHandle {
        tokio::spawn(std::future::pending::<()>()).abort_handle()
    }

    #[tokio::test]
    async fn identical_subscriptions_share_one_feed_and_both_hear_its_events() {
        let feeds = Feeds::default();
        let key = Digest::of(&[b"same operation, same caller"]);
        let mut publisher = None;
        let (first, mut a, joined_a) = feeds.join(key, |p| {
            publisher = Some(p);
            tokio::spawn(std::future::pending::<()>()).abort_handle()
        });
        let (second, mut b, joined_b) = feeds.join(key, |_| panic!("a second feed was started"));
        assert!(!joined_a && joined_b);
        assert!(Arc::ptr_eq(&first, &second));
        publisher.expect("started").next(&json!({ "data": { "n": 1 } }));
        for rx in [&mut a, &mut b] {
            let FeedEvent::Next(body) = rx.recv().await.expect("an event") else { panic!("not an event") };
            assert_eq!(&body[..], br#"{"data":{"n":1}}"#);
        }
    }

    #[tokio::test]
    async fn subscriptions_with_different_keys_never_share() {
        let feeds = Feeds::default();
        let (a, ..) = feeds.join(Digest::of(&[b"caller A"]), idle);
        let (b, ..) = feeds.join(Digest::of(&[b"caller B"]), idle);
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(feeds.running(), 2);
    }

    #[tokio::test]
    async fn the_last_client_leaving_stops_the_feed_and_frees_its_key() {
        let feeds = Feeds::default();
        let key = Digest::of(&[b"k"]);
        let (task_tx, task_rx) = tokio::sync::oneshot::channel::<()>();
        let (feed, ..) = feeds.join(key, |_| {
            tokio::spawn(async move {
                let _held = task_tx; // dropped when the task is aborted
                std::future::pending::<()>().await
            })
            .abort_handle()
        });
        let (again, ..) = feeds.join(key, idle);
        drop(feed);
        assert_eq!(feeds.running(), 1, "one client is still there");
        drop(again);
        assert!(task_rx.await.is_err(), "the task was stopped");
        assert_eq!(feeds.running(), 0);
        let (_, _, joined) = feeds.join(key, idle);
        assert!(!joined, "a later client starts a new feed");
    }

    #[tokio::test]
    async fn a_client_joining_after_the_feed_ended_starts_a_new_one() {
        let feeds = Feeds::default();
        let key = Digest::of(&[b"k"]);
        let mut publisher = None;
        let (_first, mut rx, _) = feeds.join(key, |p| {
            publisher = Some(p);
            tokio::spawn(std::future::pending::<()>()).abort_handle()
        });
        publisher.expect("started").end(FeedEvent::Complete);
        assert!(matches!(rx.recv().await, Ok(FeedEvent::Complete)));
        let (_, _, joined) = feeds.join(key, idle);
        assert!(!joined, "the ended feed is not joined");
    }
}
