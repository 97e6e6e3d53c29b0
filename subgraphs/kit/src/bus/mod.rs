//! The event bus: durable events between subgraphs, and ephemeral per-topic pub/sub for
//! subscriptions. `Local` runs in-process (the embedded default); `Redis` lets separate processes
//! and replicas share one bus (Redis Streams for events, Redis pub/sub for topics).
//!
//! Producers never publish directly: they write to their outbox (see [`outbox`]) in the same
//! transaction as the change, and the relay publishes. Consumers go through [`inbox`], which makes
//! a redelivered event a no-op.

pub mod inbox;
mod local;
pub mod outbox;
mod redis;
mod topics;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use local::LocalBus;
pub use redis::RedisBus;

/// A domain event, as it travels between subgraphs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7: unique, and ordered by creation time.
    pub id: Uuid,
    /// The event's name, e.g. `AccountRegistered`.
    pub kind: String,
    pub payload: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    /// The W3C trace context of the request that caused it, so its consumers continue that
    /// trace (absent when no trace was being recorded, and in events from before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl Event {
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind: kind.into(),
            payload,
            occurred_at: Utc::now(),
            traceparent: crate::telemetry::traceparent(),
        }
    }

    /// Puts a secret (a code, a reset token) into `payload[field]`, sealed under the bus key and
    /// bound to this event's id and the field: only ciphertext enters the outbox, the Redis
    /// stream and any log. The consumer reads it back with [`Event::secret`].
    pub fn with_secret(mut self, sealer: &crate::seal::Sealer, field: &str, value: &str) -> Self {
        let sealed = sealer.seal_text(self.secret_context(field).as_bytes(), value);
        if let Some(payload) = self.payload.as_object_mut() {
            payload.insert(field.to_owned(), serde_json::Value::String(sealed));
        }
        self
    }

    /// The secret in `payload[field]`, opened (None when the field is absent or null).
    pub fn secret(&self, sealer: &crate::seal::Sealer, field: &str) -> anyhow::Result<Option<String>> {
        match self.payload.get(field).and_then(|v| v.as_str()) {
            None => Ok(None),
            // Written by a version from before sealing (still in a stream during an upgrade).
            Some(clear) if !clear.starts_with(crate::seal::SEALED_PREFIX) => {
                tracing::warn!(event_id = %self.id, kind = self.kind, field, "an event carries a secret in clear");
                Ok(Some(clear.to_owned()))
            }
            Some(sealed) => sealer
                .open_text(self.secret_context(field).as_bytes(), sealed)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("{} {}.{field}: {e}", self.kind, self.id)),
        }
    }

    fn secret_context(&self, field: &str) -> String {
        format!("{}:{}:{field}", self.id, self.kind)
    }

    /// The `userId` of the payload: every account event names its user this way.
    pub fn user_id(&self) -> anyhow::Result<Uuid> {
        Ok(serde_json::from_value(self.payload["userId"].clone())?)
    }
}

/// One event handed to a consumer. Call [`Delivery::ack`] once it is applied; an event never
/// acked is delivered again (after a restart, on Redis).
pub struct Delivery {
    pub event: Event,
    ack: Ack,
}

enum Ack {
    Local,
    Redis { bus: RedisBus, group: String, entry_id: String },
}

impl Delivery {
    pub async fn ack(self) -> anyhow::Result<()> {
        match self.ack {
            Ack::Local => Ok(()),
            Ack::Redis { bus, group, entry_id } => bus.ack(&group, &entry_id).await,
        }
    }
}

#[derive(Clone)]
pub enum Bus {
    Local(LocalBus),
    Redis(RedisBus),
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

impl Bus {
    /// The Redis bus when a URL is given (keys under `namespace`), the in-process bus otherwise.
    pub async fn connect(redis_url: Option<&str>, namespace: &str) -> anyhow::Result<Self> {
        Ok(match redis_url {
            Some(url) => Bus::Redis(RedisBus::connect(url, namespace).await?),
            None => Bus::Local(LocalBus::default()),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Bus::Local(_) => "local",
            Bus::Redis(_) => "redis",
        }
    }

    /// Publishes an event to every consumer group. Only the outbox relay should call this.
    pub async fn publish(&self, event: &Event) -> anyhow::Result<()> {
        match self {
            Bus::Local(b) => b.publish(event),
            Bus::Redis(b) => b.publish(event).await,
        }
    }

    /// The events for consumer group `group`: each event reaches each group once (at least once).
    pub async fn events(&self, group: &str) -> anyhow::Result<BoxStream<'static, Delivery>> {
        match self {
            Bus::Local(b) => Ok(b.events(group)),
            Bus::Redis(b) => b.events(group).await,
        }
    }

    /// Every event, to every caller (unlike [`Bus::events`], which shares a group's events among
    /// its members). On Redis it starts `lookback` in the past, so a restarted reader relearns
    /// recent events; the local bus starts now.
    pub fn tail(&self, lookback: std::time::Duration) -> BoxStream<'static, Event> {
        match self {
            Bus::Local(b) => b.tail(),
            Bus::Redis(b) => b.tail(lookback),
        }
    }

    /// Sends an ephemeral message to whoever listens on `topic` now (subscriptions).
    pub async fn publish_topic(&self, topic: &str, message: &str) -> anyhow::Result<()> {
        match self {
            Bus::Local(b) => {
                b.topics.deliver(topic, message);
                Ok(())
            }
            Bus::Redis(b) => b.publish_topic(topic, message).await,
        }
    }

    /// Listens on `topic`. Dropping the stream releases everything it held.
    pub fn subscribe_topic(&self, topic: &str) -> BoxStream<'static, String> {
        match self {
            Bus::Local(b) => b.topics.subscribe(topic),
            Bus::Redis(b) => b.topics.subscribe(topic),
        }
    }

    /// Checks that the bus answers (for `/ready`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self {
            Bus::Local(_) => Ok(()),
            Bus::Redis(b) => b.ping().await,
        }
    }

    /// How many topics have live subscribers in this process (leak checks in tests, metrics).
    pub fn live_topics(&self) -> usize {
        match self {
            Bus::Local(b) => b.topics.live(),
            Bus::Redis(b) => b.topics.live(),
        }
    }

    /// How many subscribers listen to topics in this process, over all topics.
    pub fn listeners(&self) -> usize {
        match self {
            Bus::Local(b) => b.topics.listeners(),
            Bus::Redis(b) => b.topics.listeners(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Event;
    use crate::seal::Sealer;

    #[test]
    fn a_secret_travels_sealed_and_opens_only_in_its_own_event_and_field() {
        let sealer = Sealer::from_passphrase("bus");
        let event = Event::new("PasswordResetRequested", serde_json::json!({ "userId": "u1" })).with_secret(
            &sealer,
            "token",
            "reset-token-123",
        );
        assert!(!event.payload.to_string().contains("reset-token-123"), "{}", event.payload);
        assert_eq!(event.secret(&sealer, "token").expect("opens").as_deref(), Some("reset-token-123"));
        assert_eq!(event.secret(&sealer, "code").expect("absent"), None);

        let mut moved = Event::new("PasswordResetRequested", serde_json::json!({}));
        moved.payload["token"] = event.payload["token"].clone();
        assert!(moved.secret(&sealer, "token").is_err(), "bound to the event it was sealed in");
        assert!(event.secret(&Sealer::from_passphrase("other"), "token").is_err(), "and to the bus key");
    }
}
