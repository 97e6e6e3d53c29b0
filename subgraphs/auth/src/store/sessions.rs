//! Sessions and their refresh-token families.

use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub account_id: Uuid,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<i64>,
    /// When the user last proved who they are on this session (sign-in or `reauthenticate`).
    pub auth_time: i64,
    /// How: space-separated methods, `amr`-style ("pwd", "mfa", "otp", "email").
    pub amr: String,
}

const COLUMNS: &str =
    "id, account_id, created_at, last_used_at, expires_at, ip, user_agent, revoked_at, auth_time, amr";

pub async fn insert(tx: &mut Tx, s: &Session) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO sessions (id, account_id, created_at, last_used_at, expires_at, ip, user_agent, auth_time, amr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(s.id)
    .bind(s.account_id)
    .bind(s.created_at)
    .bind(s.last_used_at)
    .bind(s.expires_at)
    .bind(&s.ip)
    .bind(&s.user_agent)
    .bind(s.auth_time)
    .bind(&s.amr)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<Session>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// An account's sessions that are neither revoked nor past their absolute end, newest first.
pub async fn active(db: &Db, account: Uuid, now: i64) -> Result<Vec<Session>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
         ORDER BY created_at DESC LIMIT 100"
    );
    on_db!(db, |pool| sqlx::query_as(&sql).bind(account).bind(now).fetch_all(pool).await)
}

/// Every session of an account, revoked and expired ones too, oldest first (for the data export).
pub async fn all(db: &Db, account: Uuid) -> Result<Vec<Session>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE account_id = $1 ORDER BY created_at");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(account).fetch_all(pool).await)
}

pub async fn insert_refresh(tx: &mut Tx, hash: &[u8], session: Uuid, now: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(session)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Marks a refresh token used. Exactly one caller gets `Some(session)` for a given token: the
/// update is conditional on `rotated_at IS NULL`, which both backends apply atomically.
pub async fn rotate(tx: &mut Tx, hash: &[u8], now: i64) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL RETURNING session_id"
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(c)
    .await)
}

/// A refresh token's session and when it was rotated (None: still current).
pub async fn refresh_token(db: &Db, hash: &[u8]) -> Result<Option<(Uuid, Option<i64>)>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as("SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(pool)
        .await)
}

pub async fn touch(tx: &mut Tx, id: Uuid, now: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Records a fresh proof of the user on a live session (step-up).
pub async fn prove(db: &Db, id: Uuid, now: i64, amr: &str) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE sessions SET auth_time = $2, amr = $3 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now)
        .bind(amr)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Revokes one session; true if it was live (each revocation is announced once).
pub async fn revoke(tx: &mut Tx, id: Uuid, reason: &str, now: i64) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Revokes every live session of an account except `keep`; returns the ids revoked.
pub async fn revoke_all(
    tx: &mut Tx,
    account: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    // The nil UUID stands for "keep none": no session has it.
    let keep = keep.unwrap_or(Uuid::nil());
    on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $4, revoke_reason = $3 \
         WHERE account_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id"
    )
    .bind(account)
    .bind(keep)
    .bind(reason)
    .bind(now)
    .fetch_all(c)
    .await)
}
