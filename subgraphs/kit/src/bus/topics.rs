//! In-process fan-out of topic messages to subscribers. Both buses use it: the local bus delivers
//! straight into it, the Redis bus feeds it from one pattern subscription per process, so a
//! thousand websocket subscribers cost one Redis connection, not a thousand.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures::{Stream, StreamExt, stream::BoxStream};
use tokio::sync::broadcast;
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

/// Messages a slow subscriber may fall behind by before it starts losing the oldest.
const BUFFER: usize = 256;

#[derive(Clone, Default)]
pub struct TopicHub {
    senders: Arc<Mutex<HashMap<String, broadcast::Sender<String>>>>,
}

impl TopicHub {
    pub fn deliver(&self, topic: &str, message: &str) {
        let senders = self.senders.lock().expect("topic lock poisoned");
        if let Some(tx) = senders.get(topic) {
            // No receiver left is not an error: the guard below removes the entry soon.
            let _ = tx.send(message.to_owned());
        }
    }

    pub fn subscribe(&self, topic: &str) -> BoxStream<'static, String> {
        let rx = {
            let mut senders = self.senders.lock().expect("topic lock poisoned");
            senders.entry(topic.to_owned()).or_insert_with(|| broadcast::channel(BUFFER).0).subscribe()
        };
        Subscription { inner: Some(BroadcastStream::new(rx)), hub: self.clone(), topic: topic.to_owned() }.boxed()
    }

    pub fn live(&self) -> usize {
        self.senders.lock().expect("topic lock poisoned").len()
    }

    pub fn listeners(&self) -> usize {
        self.senders.lock().expect("topic lock poisoned").values().map(broadcast::Sender::receiver_count).sum()
    }
}

/// One subscriber's stream. On drop it removes the topic's sender if it was the last receiver,
/// so topics do not pile up per user.
struct Subscription {
    inner: Option<BroadcastStream<String>>,
    hub: TopicHub,
    topic: String,
}

impl Stream for Subscription {
    type Item = String;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        loop {
            match futures::ready!(inner.poll_next_unpin(cx)) {
                Some(Ok(message)) => return Poll::Ready(Some(message)),
                Some(Err(BroadcastStreamRecvError::Lagged(n))) => {
                    tracing::warn!(skipped = n, "a slow subscriber missed messages");
                }
                None => return Poll::Ready(None),
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Drop our receiver first, then check under the lock whether anyone else still listens:
        // a concurrent subscribe holds the same lock, so it cannot be removed from under it.
        drop(self.inner.take());
        let mut senders = self.hub.senders.lock().expect("topic lock poisoned");
        if senders.get(&self.topic).is_some_and(|tx| tx.receiver_count() == 0) {
            senders.remove(&self.topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_subscriber_leaves_no_topic_behind() {
        let hub = TopicHub::default();
        let mut a = hub.subscribe("user:1");
        let b = hub.subscribe("user:1");
        hub.deliver("user:1", "hello");
        assert_eq!(a.next().await.as_deref(), Some("hello"));
        drop(b);
        assert_eq!(hub.live(), 1, "one subscriber still listens");
        drop(a);
        assert_eq!(hub.live(), 0);
    }

    #[tokio::test]
    async fn messages_reach_only_their_topic() {
        let hub = TopicHub::default();
        let mut one = hub.subscribe("user:1");
        let _two = hub.subscribe("user:2");
        hub.deliver("user:2", "for two");
        hub.deliver("user:1", "for one");
        assert_eq!(one.next().await.as_deref(), Some("for one"));
    }
}
