//! The orders subgraph's SQL, and nothing else.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Order {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub total_cents: i64,
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

pub async fn order(db: &Db, id: Uuid) -> Result<Option<Order>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "SELECT id, user_id, status, total_cents, currency, created_at FROM orders WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)
}

/// A user's most recent orders, newest first (ids are UUIDv7, so id order is time order).
pub async fn orders_of(db: &Db, user_id: Uuid, limit: i64) -> Result<Vec<Order>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT id, user_id, status, total_cents, currency, created_at FROM orders WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    })
}

/// The account an anonymized order points at: accounting keeps the order, not the person.
pub const ANONYMOUS: Uuid = Uuid::nil();

/// Detaches a deleted user's orders from them (amounts, items and dates stay for accounting).
pub async fn anonymize(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE orders SET user_id = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(ANONYMOUS)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}
