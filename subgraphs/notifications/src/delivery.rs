//! The delivery worker: sends what [`crate::outgoing::queue`] wrote. Each attempt first claims
//! its row with a lease, so replicas never send a message twice; a failure is retried with
//! exponential backoff, and after `delivery.max_attempts` the row becomes a dead letter (`FAILED`)
//! and its sealed copy is dropped. A failing channel never holds up the others: rows are sent
//! concurrently, and an in-app push does not wait behind a slow SMTP server.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use futures::StreamExt;
use tessera_kit::{Runtime, bus::Bus, config::DeliveryConfig, db::Db, seal::Sealer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    channels::{Mailer, SmsProvider, email::Email},
    outgoing::Sealed,
    store::{deliveries, deliveries::Delivery, notifications},
    user_topic,
};

/// Rows taken per round, and sent at once.
const BATCH: i64 = 64;
const CONCURRENCY: usize = 8;
/// How often the worker looks for due rows when nobody pokes it (retries coming due, rows
/// written by another replica).
const POLL: Duration = Duration::from_millis(500);
/// How long a claimed row stays with its worker before another may take it (a crash mid-send).
const LEASE_MS: i64 = 60_000;

#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: Bus,
    mailer: Mailer,
    sms: Arc<dyn SmsProvider>,
    sealer: Sealer,
    policy: DeliveryConfig,
    wake: Notify,
}

impl Dispatcher {
    pub fn new(rt: &Runtime, sealer: Sealer, mailer: Mailer, sms: Arc<dyn SmsProvider>) -> Self {
        let policy = rt.config.delivery.clone();
        tracing::info!(mail = mailer.describe(), sms = sms.describe(), "notifications deliver by");
        Self {
            inner: Arc::new(Inner {
                db: rt.db.clone(),
                bus: rt.bus.clone(),
                mailer,
                sms,
                sealer,
                policy,
                wake: Notify::new(),
            }),
        }
    }

    /// Something was just committed: look now rather than at the next poll.
    pub fn poke(&self) {
        self.inner.wake.notify_one();
    }

    pub async fn run(self, stop: CancellationToken) {
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "a delivery round failed; will retry");
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Attempts every due row once. Returns how many were attempted.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let mut attempted = 0;
        loop {
            let now = Utc::now().timestamp_millis();
            let rows = deliveries::due(&self.inner.db, now, BATCH).await?;
            if rows.is_empty() {
                return Ok(attempted);
            }
            let count = rows.len();
            futures::stream::iter(rows).for_each_concurrent(CONCURRENCY, |row| self.attempt(row)).await;
            attempted += count;
            if count < BATCH as usize {
                return Ok(attempted);
            }
        }
    }

    async fn attempt(&self, row: Delivery) {
        let db = &self.inner.db;
        let now = Utc::now().timestamp_millis();
        match deliveries::claim(db, row.id, row.next_attempt_at, now + LEASE_MS).await {
            Ok(true) => {}
            Ok(false) => return, // another worker has it
            Err(e) => return tracing::warn!(delivery = %row.id, error = %e, "claiming a delivery failed"),
        }
        let attempts = row.attempts + 1;
        let outcome = self.send(&row).await;
        let done = Utc::now().timestamp_millis();
        let saved = match outcome {
            Ok(()) => deliveries::mark_sent(db, row.id, attempts, done).await,
            Err(e) => {
                let error = e.to_string();
                if attempts >= self.inner.policy.max_attempts {
                    tracing::error!(delivery = %row.id, channel = row.channel, attempts, error, "delivery failed for good: dead letter");
                    deliveries::mark_failed(db, row.id, attempts, None, &error).await
                } else {
                    let delay = backoff_ms(&self.inner.policy, attempts);
                    tracing::warn!(delivery = %row.id, channel = row.channel, attempts, retry_in_ms = delay, error, "delivery failed; will retry");
                    deliveries::mark_failed(db, row.id, attempts, Some(done + delay), &error).await
                }
            }
        };
        if let Err(e) = saved {
            tracing::warn!(delivery = %row.id, error = %e, "recording a delivery's outcome failed; it is retried when its lease ends");
        }
    }

    async fn send(&self, row: &Delivery) -> anyhow::Result<()> {
        if row.channel == "IN_APP" {
            let Some(id) = row.notification_id else { return Ok(()) };
            // Gone means erased since (account deleted): there is nobody left to tell.
            let Some(n) = notifications::by_id(&self.inner.db, id).await? else { return Ok(()) };
            return self.inner.bus.publish_topic(&user_topic(n.user_id), &serde_json::to_string(&n)?).await;
        }
        let sealed = row.sealed.as_deref().ok_or_else(|| anyhow::anyhow!("the message is no longer held"))?;
        let plain: Sealed = serde_json::from_slice(&self.inner.sealer.open(row.id.as_bytes(), sealed)?)?;
        match row.channel.as_str() {
            "EMAIL" => {
                let email = Email { to: &plain.to, subject: &plain.subject, text: &plain.text, html: &plain.html };
                self.inner.mailer.send(&email).await
            }
            "SMS" => self.inner.sms.send(&plain.to, &plain.text).await,
            other => anyhow::bail!("unknown channel {other}"),
        }
    }
}

/// The delay before retry number `attempts`: the first delay, doubled each time, capped.
pub fn backoff_ms(policy: &DeliveryConfig, attempts: i64) -> i64 {
    let exp = (attempts.clamp(1, 30) - 1) as u32;
    policy.first_retry_ms.saturating_mul(1i64 << exp.min(30)).min(policy.max_retry_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let policy = DeliveryConfig { first_retry_ms: 1_000, max_retry_ms: 5_000, ..DeliveryConfig::default() };
        assert_eq!([1, 2, 3, 4].map(|a| backoff_ms(&policy, a)), [1_000, 2_000, 4_000, 5_000]);
    }
}
