//! The Redis bus. Events go to one Redis Stream read through a consumer group per subgraph, so
//! each subgraph gets each event once even with several replicas. An event delivered but never
//! acked (its consumer crashed mid-way, or was killed) is taken over by a live replica of the
//! same group once it has been idle for [`RECLAIM_IDLE`] (`XAUTOCLAIM`): each process has a
//! consumer name of its own, so without that a dead process's pending events would wait forever.
//! Inboxes make the takeover safe: a slow consumer and its successor cannot both apply an event.
//! Topics use Redis pub/sub through a single pattern subscription per process, fanned out
//! locally by [`TopicHub`].

use std::{ops::Deref, sync::Arc, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use redis::{
    AsyncCommands, Client,
    aio::ConnectionManager,
    streams::{StreamReadOptions, StreamReadReply},
};

use super::{Ack, Delivery, Event, topics::TopicHub};

/// The stream is trimmed to about this many entries; consumers are expected to keep up.
const STREAM_MAX_LEN: usize = 100_000;

/// How long an event may sit delivered and unacked before another consumer of its group takes
/// it over. Longer than a live consumer's own retries of one event (about 17 s), so a slow but
/// living consumer is rarely overtaken; its inbox makes it harmless when it is.
pub const RECLAIM_IDLE: Duration = Duration::from_secs(30);
/// How often each consumer looks for such events.
const RECLAIM_EVERY: Duration = Duration::from_secs(5);

/// Cheap to clone: every clone shares one connection manager and one topic hub.
#[derive(Clone)]
pub struct RedisBus(Arc<Inner>);

pub struct Inner {
    client: Client,
    conn: ConnectionManager,
    /// `<namespace>:events`, the one stream every event goes through.
    stream: String,
    /// `<namespace>:topic:`, prefixed to every pub/sub channel.
    topic_prefix: String,
    /// Names this process in consumer groups, so its pending entries are its own to re-read.
    consumer: String,
    /// See [`RECLAIM_IDLE`].
    reclaim_idle: Duration,
    pub(super) topics: TopicHub,
}

impl Deref for RedisBus {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl RedisBus {
    /// Connects to Redis. `namespace` prefixes every key, so deployments (or parallel tests)
    /// sharing one Redis do not see each other's events.
    pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<Self> {
        Self::connect_reclaiming(url, namespace, RECLAIM_IDLE).await
    }

    /// [`RedisBus::connect`], taking over other consumers' events once idle for `reclaim_idle`
    /// (tests shorten it).
    pub async fn connect_reclaiming(url: &str, namespace: &str, reclaim_idle: Duration) -> anyhow::Result<Self> {
        let client = Client::open(url).map_err(|e| anyhow::anyhow!("invalid Redis URL: {e}"))?;
        let conn = tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager())
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to Redis"))?
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
        let bus = Self(Arc::new(Inner {
            client,
            conn,
            stream: format!("{namespace}:events"),
            topic_prefix: format!("{namespace}:topic:"),
            consumer: format!("{}-{}", hostname(), uuid::Uuid::now_v7()),
            reclaim_idle,
            topics: TopicHub::default(),
        }));
        tokio::spawn(bus.clone().relay_topics());
        Ok(bus)
    }

    pub(super) async fn publish(&self, event: &Event) -> anyhow::Result<()> {
        let json = serde_json::to_string(event)?;
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("XADD")
            .arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_MAX_LEN)
            .arg("*")
            .arg("event")
            .arg(json)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    pub(super) async fn events(&self, group: &str) -> anyhow::Result<BoxStream<'static, Delivery>> {
        self.create_group(group).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(self.clone().read_group(group.to_owned(), tx));
        Ok(tokio_stream::wrappers::ReceiverStream::new(rx).boxed())
    }

    /// Creates the group (and the stream) if missing. A new group starts at the beginning of the
    /// retained stream: inboxes drop what was already applied.
    async fn create_group(&self, group: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let created: redis::RedisResult<String> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(e),
            _ => Ok(()),
        }
    }

    /// Reads the group until the receiving side is dropped. First this consumer's own pending
    /// entries (delivered before a crash, never acked), then new ones.
    async fn read_group(self, group: String, tx: tokio::sync::mpsc::Sender<Delivery>) {
        let mut backoff = Duration::from_millis(100);
        let mut cursor = "0".to_owned();
        let mut last_reclaim = tokio::time::Instant::now();
        while !tx.is_closed() {
            // A blocking read gets a connection of its own: on the shared multiplexed one it
            // would hold up every other command.
            let mut conn = match self.client.get_multiplexed_async_connection_with_config(&blocking_reads()).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "event consumer cannot reach Redis; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            loop {
                if tx.is_closed() {
                    return;
                }
                let opts = StreamReadOptions::default()
                    .group(&group, &self.consumer)
                    .count(64)
                    .block(BLOCK.as_millis() as usize);
                let reply: redis::RedisResult<StreamReadReply> =
                    conn.xread_options(&[self.stream.as_str()], &[cursor.as_str()], &opts).await;
                let reply = match reply {
                    Ok(r) => r,
                    Err(e) if e.code() == Some("NOGROUP") => {
                        // Redis came back without our group (restarted without persistence, or
                        // flushed): make it again and carry on.
                        tracing::warn!(group, "event consumer group vanished; recreating it");
                        if let Err(e) = self.create_group(&group).await {
                            tracing::warn!(error = %e, "cannot recreate the consumer group");
                            tokio::time::sleep(backoff).await;
                        }
                        cursor = "0".to_owned();
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event consumer lost Redis; reconnecting");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        break;
                    }
                };
                backoff = Duration::from_millis(100);
                let entries: Vec<_> = reply.keys.into_iter().flat_map(|k| k.ids).collect();
                if cursor != ">" {
                    // Paging through our own pending entries; once none are left, read new ones.
                    cursor = entries.last().map_or_else(|| ">".to_owned(), |e| e.id.clone());
                }
                if !self.hand_over(&group, entries, &tx).await {
                    return;
                }
                if cursor == ">" && last_reclaim.elapsed() >= RECLAIM_EVERY {
                    last_reclaim = tokio::time::Instant::now();
                    let claimed = self.reclaim(&group).await;
                    if !self.hand_over(&group, claimed, &tx).await {
                        return;
                    }
                }
            }
        }
    }

    /// Sends `entries` to the consumer; false when it has gone.
    async fn hand_over(
        &self,
        group: &str,
        entries: Vec<redis::streams::StreamId>,
        tx: &tokio::sync::mpsc::Sender<Delivery>,
    ) -> bool {
        for entry in entries {
            let Some(json) = entry.get::<String>("event") else { continue };
            let event: Event = match serde_json::from_str(&json) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, entry = entry.id, "dropping an unreadable event");
                    let _ = self.ack(group, &entry.id).await;
                    continue;
                }
            };
            let ack = Ack::Redis { bus: self.clone(), group: group.to_owned(), entry_id: entry.id.clone() };
            if tx.send(Delivery { event, ack }).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Takes over the group's events that another consumer received and left unacked for longer
    /// than `reclaim_idle` (a crashed or killed replica), a few pages at a time.
    async fn reclaim(&self, group: &str) -> Vec<redis::streams::StreamId> {
        let mut conn = self.conn.clone();
        let mut claimed = Vec::new();
        let mut start = "0-0".to_owned();
        for _ in 0..4 {
            let opts = redis::streams::StreamAutoClaimOptions::default().count(64);
            let idle = self.reclaim_idle.as_millis() as u64;
            let reply: redis::RedisResult<redis::streams::StreamAutoClaimReply> =
                conn.xautoclaim_options(&self.stream, group, &self.consumer, idle, &start, opts).await;
            match reply {
                Ok(reply) => {
                    if !reply.claimed.is_empty() {
                        tracing::warn!(
                            group,
                            events = reply.claimed.len(),
                            "took over events another consumer left unacked"
                        );
                    }
                    claimed.extend(reply.claimed);
                    if reply.next_stream_id == "0-0" {
                        break;
                    }
                    start = reply.next_stream_id;
                }
                Err(e) => {
                    tracing::warn!(error = %e, group, "cannot look for abandoned events");
                    break;
                }
            }
        }
        claimed
    }

    /// Reads every event with plain `XREAD` (no group), starting `lookback` ago: stream ids are
    /// millisecond timestamps. Ends when the receiver is dropped.
    pub(super) fn tail(&self, lookback: Duration) -> BoxStream<'static, Event> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let bus = self.clone();
        let start = chrono::Utc::now().timestamp_millis() - lookback.as_millis() as i64;
        tokio::spawn(async move {
            let mut cursor = format!("{}-0", start.max(0));
            let mut backoff = Duration::from_millis(100);
            while !tx.is_closed() {
                let mut conn = match bus.client.get_multiplexed_async_connection_with_config(&blocking_reads()).await {
                    Ok(c) => c,
                    Err(_) => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                };
                loop {
                    let opts = StreamReadOptions::default().count(256).block(BLOCK.as_millis() as usize);
                    let reply: redis::RedisResult<StreamReadReply> =
                        conn.xread_options(&[bus.stream.as_str()], &[cursor.as_str()], &opts).await;
                    let Ok(reply) = reply else { break };
                    backoff = Duration::from_millis(100);
                    for entry in reply.keys.into_iter().flat_map(|k| k.ids) {
                        cursor = entry.id.clone();
                        let Some(event) = entry.get::<String>("event").and_then(|j| serde_json::from_str(&j).ok())
                        else {
                            continue;
                        };
                        if tx.send(event).await.is_err() {
                            return;
                        }
                    }
                    if tx.is_closed() {
                        return;
                    }
                }
                tokio::time::sleep(backoff).await;
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
    }

    pub(super) async fn ack(&self, group: &str, entry_id: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.xack(&self.stream, group, &[entry_id]).await?;
        Ok(())
    }

    pub(super) async fn publish_topic(&self, topic: &str, message: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.publish(format!("{}{topic}", self.topic_prefix), message).await?;
        Ok(())
    }

    /// One pattern subscription for the whole process, re-established whenever Redis comes back.
    async fn relay_topics(self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if let Err(e) = pubsub.psubscribe(format!("{}*", self.topic_prefix)).await {
                        tracing::warn!(error = %e, "cannot subscribe to Redis topics; retrying");
                    } else {
                        backoff = Duration::from_millis(100);
                        let mut messages = pubsub.into_on_message();
                        while let Some(msg) = messages.next().await {
                            let channel = msg.get_channel_name();
                            let Some(topic) = channel.strip_prefix(self.topic_prefix.as_str()) else { continue };
                            if let Ok(payload) = msg.get_payload::<String>() {
                                self.topics.deliver(topic, &payload);
                            }
                        }
                        tracing::warn!("Redis topic subscription closed; reconnecting");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot reach Redis for topics; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    pub(super) async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

/// How long a blocking read (`XREAD(GROUP) … BLOCK`) waits for new entries.
const BLOCK: Duration = Duration::from_secs(2);

/// A connection for blocking reads. redis-rs times responses out after 500 ms by default,
/// which would fail every `BLOCK 2000` read on an idle stream and send the reader into
/// reconnect backoff: events would then arrive seconds late.
fn blocking_reads() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new().set_response_timeout(Some(BLOCK + Duration::from_secs(5)))
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "tessera".into())
}
