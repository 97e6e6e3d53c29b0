//! The notifications subgraph's SQL, and nothing else.

use chrono::{DateTime, Utc};
use tessera_kit::{db::Db, on_db};
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
