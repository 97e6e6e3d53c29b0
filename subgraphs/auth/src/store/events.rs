//! The security audit trail.

use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecurityEvent {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    pub kind: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
    pub occurred_at: i64,
}

pub async fn insert(tx: &mut Tx, e: &SecurityEvent) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO security_events (id, account_id, kind, ip, user_agent, detail, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(e.id)
    .bind(e.account_id)
    .bind(&e.kind)
    .bind(&e.ip)
    .bind(&e.user_agent)
    .bind(&e.detail)
    .bind(e.occurred_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// One page of an account's events, newest first, before the cursor id (UUIDv7 is time-ordered).
pub async fn page(db: &Db, account: Uuid, before: Option<Uuid>, limit: i64) -> Result<Vec<SecurityEvent>, sqlx::Error> {
    // The max UUID stands for "from the newest".
    let before = before.unwrap_or(Uuid::max());
    on_db!(db, |pool| sqlx::query_as(
        "SELECT id, account_id, kind, ip, user_agent, detail, occurred_at FROM security_events \
         WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    )
    .bind(account)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await)
}

pub async fn count(db: &Db, account: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM security_events WHERE account_id = $1")
        .bind(account)
        .fetch_one(pool)
        .await)
}

/// Every event of an account, oldest first (for the data export).
pub async fn all(db: &Db, account: Uuid) -> Result<Vec<SecurityEvent>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "SELECT id, account_id, kind, ip, user_agent, detail, occurred_at FROM security_events \
         WHERE account_id = $1 ORDER BY id"
    )
    .bind(account)
    .fetch_all(pool)
    .await)
}
