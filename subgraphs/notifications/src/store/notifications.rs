//! In-app notifications: the history a user lists, counts and marks read. Bodies are stored
//! redacted (see `message.rs`), so nothing here is a secret.

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
    #[serde(default)]
    pub order_id: Option<Uuid>,
}

const COLUMNS: &str = "id, user_id, kind, title, body, read_at, created_at, order_id";

pub async fn unread_count(db: &Db, user_id: Uuid) -> Result<i64, sqlx::Error> {
    count(db, user_id, true).await
}

/// How many notifications the user has (only the unread ones with `unread_only`).
pub async fn count(db: &Db, user_id: Uuid, unread_only: bool) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM notifications WHERE user_id = $1{}", unread(unread_only));
    on_db!(db, |pool| sqlx::query_scalar(&sql).bind(user_id).fetch_one(pool).await)
}

fn unread(only: bool) -> &'static str {
    if only { " AND read_at IS NULL" } else { "" }
}

/// One page, newest first, continuing below `before` (the last cursor of the previous page).
pub async fn page(
    db: &Db,
    user_id: Uuid,
    before: Option<Uuid>,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let keyset = if before.is_some() { " AND id < $3" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1{}{keyset} ORDER BY id DESC LIMIT $2",
        unread(unread_only)
    );
    on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Notification>(&sql).bind(user_id).bind(limit);
        if let Some(before) = before {
            q = q.bind(before);
        }
        q.fetch_all(pool).await
    })
}

pub async fn insert(tx: &mut Tx, n: &Notification) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, body, read_at, created_at, order_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(n.id)
    .bind(n.user_id)
    .bind(&n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.read_at)
    .bind(n.created_at)
    .bind(n.order_id)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<Notification>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// Marks one of the user's notifications read (keeping the first read time). `None` when the
/// user has no notification with this id: someone else's looks exactly like a missing one.
pub async fn mark_read(
    db: &Db,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Notification>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL"
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(by_id(db, id).await?.filter(|n| n.user_id == user_id))
}

/// Marks every unread notification of the user read; returns how many changed.
pub async fn mark_all_read(db: &Db, user_id: Uuid, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}

/// Every notification of a user, newest first (for the data export).
pub async fn all_of(db: &Db, user_id: Uuid) -> Result<Vec<Notification>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY id DESC");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)
}

/// Erases a deleted user's notifications.
pub async fn delete_for(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM notifications WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}
