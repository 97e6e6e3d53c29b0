//! The transactional outbox. [`enqueue`] writes an event in the caller's transaction, so the
//! event exists if and only if the change it describes committed. The [`Relay`] then publishes
//! pending rows to the bus, retrying failed publishes with exponential backoff.
//!
//! With several replicas of one subgraph, two relays may publish the same row; consumers are
//! idempotent (see [`super::inbox`]), so that costs a duplicate message, never a duplicate effect.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Bus, Event};
use crate::db::{Db, Tx};
use crate::{on_db, on_tx};

/// Rows published per round.
const BATCH: i64 = 100;
/// How often the relay looks for pending rows when nobody pokes it (other processes' writes,
/// retries coming due).
const POLL: Duration = Duration::from_millis(500);
/// Retry delays double from this, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 200;
const MAX_BACKOFF_MS: i64 = 60_000;

/// Writes `event` to the outbox inside `tx`. Call [`Relay::poke`] after committing for prompt delivery.
pub async fn enqueue(tx: &mut Tx, event: &Event) -> Result<(), sqlx::Error> {
    let now = Utc::now().timestamp_millis();
    let payload = serde_json::to_string(&serde_json::json!({
        "payload": event.payload,
        "occurred_at": event.occurred_at,
        "traceparent": event.traceparent,
    }))
    .expect("a JSON value serializes");
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO outbox (id, kind, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)"
    )
    .bind(event.id)
    .bind(&event.kind)
    .bind(&payload)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Deletes the already-published events that mention `user_id`, inside an erasure's transaction.
/// Published rows are history nobody reads again, yet their payloads can hold an email address
/// or a username; a deleted account must not live on there. Pending rows stay: they still have
/// to reach their consumers (the erasure's own `AccountDeleted` among them).
pub async fn forget_published(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM outbox WHERE published_at IS NOT NULL AND payload LIKE $1")
        .bind(format!("%{user_id}%"))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: Uuid,
    kind: String,
    payload: String,
    attempts: i64,
}

impl PendingRow {
    fn into_event(self) -> Result<Event, serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Stored {
            payload: serde_json::Value,
            occurred_at: chrono::DateTime<Utc>,
            #[serde(default)]
            traceparent: Option<String>,
        }
        let stored: Stored = serde_json::from_str(&self.payload)?;
        Ok(Event {
            id: self.id,
            kind: self.kind,
            payload: stored.payload,
            occurred_at: stored.occurred_at,
            traceparent: stored.traceparent,
        })
    }
}

/// Publishes a subgraph's outbox to the bus.
#[derive(Clone)]
pub struct Relay {
    db: Db,
    bus: Bus,
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(db: Db, bus: Bus) -> Self {
        Self { db, bus, wake: Arc::new(Notify::new()) }
    }

    /// Tells the relay a row was just committed, so it publishes now rather than at the next poll.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Runs until `stop` is cancelled, then publishes what is pending once more before returning,
    /// so a graceful shutdown leaves nothing behind that could go out now.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            if let Err(e) = self.publish_due().await {
                tracing::warn!(error = %e, "outbox relay round failed; will retry");
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
        match self.publish_due().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "outbox flushed on shutdown"),
            Err(e) => tracing::warn!(error = %e, "outbox flush on shutdown failed; rows stay pending"),
        }
    }

    /// Publishes every row that is due, in batches. Returns how many were published.
    /// A failed publish is rescheduled with backoff and does not hold up the others.
    pub async fn publish_due(&self) -> anyhow::Result<usize> {
        let mut published = 0;
        loop {
            let now = Utc::now().timestamp_millis();
            let rows: Vec<PendingRow> = on_db!(&self.db, |pool| sqlx::query_as(
                "SELECT id, kind, payload, attempts FROM outbox \
                 WHERE published_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2"
            )
            .bind(now)
            .bind(BATCH)
            .fetch_all(pool)
            .await)?;
            if rows.is_empty() {
                return Ok(published);
            }
            let mut failed = 0;
            let count = rows.len();
            for row in rows {
                let (id, attempts) = (row.id, row.attempts);
                let result = match row.into_event() {
                    Ok(event) => self.bus.publish(&event).await,
                    Err(e) => Err(anyhow::anyhow!("unreadable outbox row: {e}")),
                };
                match result {
                    Ok(()) => {
                        self.mark_published(id).await?;
                        published += 1;
                    }
                    Err(e) => {
                        failed += 1;
                        self.reschedule(id, attempts + 1, &e).await?;
                    }
                }
            }
            // Everything left in this round failed; stop hammering a bus that is down.
            if failed == count {
                return Ok(published);
            }
        }
    }

    /// Marks a row published. (Its secrets were sealed before it was written: see
    /// `Event::with_secret`.)
    async fn mark_published(&self, id: Uuid) -> Result<(), sqlx::Error> {
        let now = Utc::now().timestamp_millis();
        on_db!(&self.db, |pool| sqlx::query("UPDATE outbox SET published_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn reschedule(&self, id: Uuid, attempts: i64, error: &anyhow::Error) -> Result<(), sqlx::Error> {
        let delay = backoff_ms(attempts);
        tracing::warn!(event_id = %id, attempts, retry_in_ms = delay, error = %error, "publishing an event failed");
        let next = Utc::now().timestamp_millis() + delay;
        on_db!(&self.db, |pool| sqlx::query(
            "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4"
        )
        .bind(attempts.min(1_000_000))
        .bind(next)
        .bind(error.to_string())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Rows not yet published (for tests and `/ready` diagnostics).
    pub async fn pending(&self) -> Result<i64, sqlx::Error> {
        on_db!(&self.db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(pool)
            .await)
    }
}

/// 200 ms, 400 ms, 800 ms … capped at a minute.
fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (FIRST_BACKOFF_MS << exp).min(MAX_BACKOFF_MS)
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_then_caps_at_a_minute() {
        assert_eq!([1, 2, 3].map(backoff_ms), [200, 400, 800]);
        assert_eq!(backoff_ms(30), 60_000);
    }
}
