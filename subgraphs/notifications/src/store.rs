//! The notifications subgraph's SQL, and nothing else.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn unread_count(db: &Db, user_id: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(pool)
        .await)
}

pub async fn insert(db: &Db, n: &Notification) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, body, read_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(n.id)
    .bind(n.user_id)
    .bind(&n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.read_at)
    .bind(n.created_at)
    .execute(pool)
    .await
    .map(|_| ())
    })
}

/// Every notification of a user, newest first (for the data export).
pub async fn all_of(db: &Db, user_id: Uuid) -> Result<Vec<Notification>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT id, user_id, kind, title, body, read_at, created_at FROM notifications WHERE user_id = $1 ORDER BY id DESC"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    })
}

/// Erases a deleted user's notifications.
pub async fn delete_for(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM notifications WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}
