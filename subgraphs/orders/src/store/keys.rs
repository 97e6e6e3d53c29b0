//! Idempotency keys of `placeOrder`: one per user and key, kept 24 hours.

use chrono::{DateTime, Utc};
use tessera_kit::{db::Db, db::Tx, on_db, on_tx};
use uuid::Uuid;

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is new (or its old use expired): it now points at `order`.
    Fresh,
    /// The key names an order already, placed with items of this fingerprint.
    Taken { order_id: Uuid, fingerprint: String },
}

/// Takes `key` for `order` unless a use younger than `expired_before` holds it. Of two
/// concurrent claims one inserts and the other waits on it, then finds it (PostgreSQL's unique
/// index; SQLite's single writer), so one key never makes two orders.
pub async fn claim(
    tx: &mut Tx,
    user: Uuid,
    key: &str,
    fingerprint: &str,
    order: Uuid,
    now: DateTime<Utc>,
    expired_before: DateTime<Utc>,
) -> Result<Claim, sqlx::Error> {
    let claimed: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO idempotency_keys (user_id, idempotency_key, fingerprint, order_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, idempotency_key) DO UPDATE \
         SET fingerprint = excluded.fingerprint, order_id = excluded.order_id, created_at = excluded.created_at \
         WHERE idempotency_keys.created_at < $6 RETURNING order_id"
    )
    .bind(user)
    .bind(key)
    .bind(fingerprint)
    .bind(order)
    .bind(now)
    .bind(expired_before)
    .fetch_optional(c)
    .await)?;
    if claimed.is_some() {
        return Ok(Claim::Fresh);
    }
    let (order_id, fingerprint): (Uuid, String) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT order_id, fingerprint FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2"
    )
    .bind(user)
    .bind(key)
    .fetch_one(c)
    .await)?;
    Ok(Claim::Taken { order_id, fingerprint })
}

/// Forgets keys older than `before`; returns how many.
pub async fn purge(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}

/// A deleted account's keys go with it.
pub async fn forget_user(tx: &mut Tx, user: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1")
        .bind(user)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// Frees the key that placed `order` (it was rejected for want of products): the customer's
/// retry with that key places a new order instead of replaying the failure.
pub async fn forget_order(db: &Db, user: Uuid, order: Uuid) -> Result<u64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND order_id = $2")
        .bind(user)
        .bind(order)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}
