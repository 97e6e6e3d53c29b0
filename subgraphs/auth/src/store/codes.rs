//! One-time codes, reset tokens, MFA challenges and recovery codes: all stored hashed, all
//! spent by a conditional update so that exactly one use can succeed.

use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Code {
    pub id: Uuid,
    pub destination: String,
    pub code_hash: Vec<u8>,
    pub expires_at: i64,
    pub attempts: i64,
}

/// Stores a new code for `purpose`, spending any older live one (only the newest works).
pub async fn insert_code(
    tx: &mut Tx,
    account: Uuid,
    purpose: &str,
    destination: &str,
    hash: &[u8],
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE one_time_codes SET used_at = $3 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL"
    )
    .bind(account)
    .bind(purpose)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO one_time_codes (id, account_id, purpose, destination, code_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(Uuid::now_v7())
    .bind(account)
    .bind(purpose)
    .bind(destination)
    .bind(hash)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// The live code for `purpose`, counting this attempt against it first: a caller only sees
/// the code if its attempt number is within `max_attempts`.
pub async fn attempt_code(
    db: &Db,
    account: Uuid,
    purpose: &str,
    now: i64,
    max_attempts: i64,
) -> Result<Option<Code>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "UPDATE one_time_codes SET attempts = attempts + 1 \
         WHERE id = (SELECT id FROM one_time_codes WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL \
                     AND expires_at > $3 ORDER BY created_at DESC LIMIT 1) \
           AND attempts < $4 \
         RETURNING id, destination, code_hash, expires_at, attempts"
    )
    .bind(account)
    .bind(purpose)
    .bind(now)
    .bind(max_attempts)
    .fetch_optional(pool)
    .await)
}

/// Spends a code; true for the one caller that did.
pub async fn spend_code(tx: &mut Tx, id: Uuid, now: i64) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn insert_reset(tx: &mut Tx, hash: &[u8], account: Uuid, expires_at: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("INSERT INTO reset_tokens (token_hash, account_id, expires_at) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(account)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Spends every outstanding reset token of an account (after a reset or a password change, an
/// older link must not work).
pub async fn spend_all_resets(tx: &mut Tx, account: Uuid, now: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE reset_tokens SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL")
        .bind(account)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Spends a live reset token and returns its account; None if unknown, expired or used.
pub async fn spend_reset(tx: &mut Tx, hash: &[u8], now: i64) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE reset_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
         RETURNING account_id"
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(c)
    .await)
}

pub async fn insert_challenge(db: &Db, hash: &[u8], account: Uuid, expires_at: i64) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO mfa_challenges (token_hash, account_id, expires_at) VALUES ($1, $2, $3)"
    )
    .bind(hash)
    .bind(account)
    .bind(expires_at)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Counts an attempt at a live challenge and returns its account, within `max_attempts`.
pub async fn attempt_challenge(db: &Db, hash: &[u8], now: i64, max_attempts: i64) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "UPDATE mfa_challenges SET attempts = attempts + 1 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3 RETURNING account_id"
    )
    .bind(hash)
    .bind(now)
    .bind(max_attempts)
    .fetch_optional(pool)
    .await)
}

pub async fn spend_challenge(tx: &mut Tx, hash: &[u8], now: i64) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE mfa_challenges SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
        .bind(hash)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Replaces an account's recovery codes.
pub async fn replace_recovery(tx: &mut Tx, account: Uuid, hashes: &[Vec<u8>]) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
        .bind(account)
        .execute(c)
        .await
        .map(|_| ()))?;
    for hash in hashes {
        on_tx!(tx, |c| sqlx::query("INSERT INTO recovery_codes (code_hash, account_id) VALUES ($1, $2)")
            .bind(hash)
            .bind(account)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Spends a recovery code of this account; true for the one caller that did.
pub async fn spend_recovery(db: &Db, account: Uuid, hash: &[u8], now: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE code_hash = $2 AND account_id = $1 AND used_at IS NULL"
    )
    .bind(account)
    .bind(hash)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))
}

pub async fn recovery_left(db: &Db, account: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL"
    )
    .bind(account)
    .fetch_one(pool)
    .await)
}

/// The account of a live reset token, without spending it (the new password is checked first,
/// so a refused password does not burn the token).
pub async fn peek_reset(db: &Db, hash: &[u8], now: i64) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "SELECT account_id FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(pool)
    .await)
}
