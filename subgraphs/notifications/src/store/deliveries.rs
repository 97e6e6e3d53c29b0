//! The delivery log: one row per message and channel. A row is `PENDING` until the worker sends
//! it (`SENT`) or gives up after the configured attempts (`FAILED`: the dead letter). The sealed
//! message is dropped in both cases, so only the redacted preview stays.

use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

pub const PENDING: &str = "PENDING";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub notification_id: Option<Uuid>,
    /// `EMAIL`, `SMS` or `IN_APP`.
    pub channel: String,
    /// An email address, a phone number, or (in-app) the user id.
    pub recipient: String,
    pub subject: String,
    pub preview: String,
    pub sealed: Option<Vec<u8>>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, notification_id, channel, recipient, subject, preview, sealed, status, \
                       attempts, next_attempt_at, last_error, created_at, sent_at";

pub async fn insert(tx: &mut Tx, d: &Delivery) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO deliveries ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    on_tx!(tx, |c| sqlx::query(&sql)
        .bind(d.id)
        .bind(d.user_id)
        .bind(d.notification_id)
        .bind(&d.channel)
        .bind(&d.recipient)
        .bind(&d.subject)
        .bind(&d.preview)
        .bind(&d.sealed)
        .bind(&d.status)
        .bind(d.attempts)
        .bind(d.next_attempt_at)
        .bind(&d.last_error)
        .bind(d.created_at)
        .bind(d.sent_at)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Pending rows whose time has come, oldest due first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $2"
    );
    on_db!(db, |pool| sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(pool).await)
}

/// Takes a row for one attempt by moving its due time to `lease_until`, only if nobody else moved
/// it since we read it. Two workers (replicas) reading the same row: one wins, one skips, so a
/// message is not sent twice; a worker that dies mid-send frees the row when the lease ends.
pub async fn claim(db: &Db, id: Uuid, seen_due: i64, lease_until: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'PENDING' AND next_attempt_at = $3"
    )
    .bind(lease_until)
    .bind(id)
    .bind(seen_due)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))
}

pub async fn mark_sent(db: &Db, id: Uuid, attempts: i64, now: i64) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
        "UPDATE deliveries SET status = 'SENT', sealed = NULL, attempts = $1, sent_at = $2, last_error = NULL WHERE id = $3"
    )
    .bind(attempts)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
    })
}

/// Records a failed attempt: due again at `retry_at`, or, with `None`, a dead letter.
pub async fn mark_failed(
    db: &Db,
    id: Uuid,
    attempts: i64,
    retry_at: Option<i64>,
    error: &str,
) -> Result<(), sqlx::Error> {
    let (status, next) = match retry_at {
        Some(at) => (PENDING, at),
        None => (FAILED, 0),
    };
    on_db!(db, |pool| sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4, \
         sealed = CASE WHEN $1 = 'FAILED' THEN NULL ELSE sealed END WHERE id = $5"
    )
    .bind(status)
    .bind(attempts)
    .bind(next)
    .bind(error)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// One page of the log in a status, newest first (the admin's view of dead letters).
pub async fn page(db: &Db, status: &str, before: Option<Uuid>, limit: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    let keyset = if before.is_some() { " AND id < $3" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE status = $1{keyset} ORDER BY id DESC LIMIT $2");
    on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Delivery>(&sql).bind(status).bind(limit);
        if let Some(before) = before {
            q = q.bind(before);
        }
        q.fetch_all(pool).await
    })
}

pub async fn count(db: &Db, status: &str) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = $1")
        .bind(status)
        .fetch_one(pool)
        .await)
}

/// Erases a deleted user's delivery log, pending messages included: nothing more goes to them.
pub async fn delete_for(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM deliveries WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<Delivery>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}
