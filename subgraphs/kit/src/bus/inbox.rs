//! Idempotent consumers. An event's effect and the record that it was handled are written in one
//! transaction, so an event delivered twice (a redelivery after a crash, two relays publishing
//! the same row) is applied once.

use std::future::Future;

use chrono::Utc;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use super::{Bus, Event};
use crate::db::{Db, Tx};
use crate::on_tx;

/// Opens a transaction that records `event_id` as handled by `consumer`. Returns `None` when
/// it was handled before: the caller then does nothing. Commit the transaction after applying.
pub async fn claim(db: &Db, consumer: &str, event_id: Uuid) -> Result<Option<Tx>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let inserted = on_tx!(&mut tx, |c| sqlx::query(
        "INSERT INTO inbox (consumer, event_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    )
    .bind(consumer)
    .bind(event_id)
    .bind(Utc::now().timestamp_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    Ok(Some(tx))
}

/// What a subgraph does with the events it consumes.
pub trait Handler: Send + Sync + 'static {
    /// Applies `event` inside `tx` (already claimed in the inbox). Return an error to roll back;
    /// the event is then retried.
    fn handle(&self, event: &Event, tx: &mut Tx) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Called once `event`'s transaction has committed: the place to wake whatever acts on the
    /// rows it wrote (a delivery worker), which could not see them before the commit.
    fn applied(&self, _event: &Event) {}
}

/// Handles one delivery exactly once. Returns whether it was applied (false: a duplicate).
pub async fn handle_once<H: Handler>(db: &Db, consumer: &str, handler: &H, event: &Event) -> anyhow::Result<bool> {
    let Some(mut tx) = claim(db, consumer, event.id).await? else {
        tracing::debug!(consumer, event_id = %event.id, kind = event.kind, "duplicate event ignored");
        return Ok(false);
    };
    handler.handle(event, &mut tx).await?;
    tx.commit().await?;
    handler.applied(event);
    Ok(true)
}

/// Subscribes `consumer` (the consumer group: one per subgraph) and spawns the loop that applies
/// events until `stop` is cancelled. Subscribing happens before this returns, so nothing published
/// afterwards is missed. A failing event is retried a few times, then left unacked (Redis
/// redelivers it on restart) and logged.
pub async fn spawn_consumer<H: Handler>(
    bus: &Bus,
    db: Db,
    consumer: &'static str,
    handler: H,
    stop: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    spawn_observed_consumer(bus, db, consumer, handler, stop, None).await
}

/// [`spawn_consumer`], counting each event's result and, for the applied ones, how old the event
/// was: the consumer's lag behind its producers.
pub async fn spawn_observed_consumer<H: Handler>(
    bus: &Bus,
    db: Db,
    consumer: &'static str,
    handler: H,
    stop: CancellationToken,
    metrics: Option<std::sync::Arc<crate::metrics::SubgraphMetrics>>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut deliveries = bus.events(consumer).await?;
    Ok(tokio::spawn(async move {
        loop {
            let delivery = tokio::select! {
                () = stop.cancelled() => break,
                next = deliveries.next() => match next { Some(d) => d, None => break },
            };
            // The consumer's span continues the trace of the request that wrote the event.
            let span =
                tracing::info_span!("consume", consumer, kind = %delivery.event.kind, event_id = %delivery.event.id);
            crate::telemetry::continue_trace(&span, delivery.event.traceparent.as_deref());
            let mut delay = std::time::Duration::from_millis(50);
            let mut result = "failed";
            for attempt in 1..=5 {
                match handle_once(&db, consumer, &handler, &delivery.event).instrument(span.clone()).await {
                    Ok(applied) => {
                        result = if applied { "applied" } else { "duplicate" };
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(consumer, event_id = %delivery.event.id, attempt, error = %e, "event handler failed");
                        tokio::time::sleep(delay).await;
                        delay *= 4;
                    }
                }
            }
            if let Some(metrics) = &metrics {
                let age = (chrono::Utc::now() - delivery.event.occurred_at).to_std().unwrap_or_default();
                metrics.consumed(consumer, result, age);
            }
            if result == "failed" {
                tracing::error!(consumer, event_id = %delivery.event.id, kind = delivery.event.kind, "event not applied after retries");
            } else if let Err(e) = delivery.ack().await {
                tracing::warn!(consumer, error = %e, "ack failed; the event may be redelivered (and ignored)");
            }
        }
    }))
}
