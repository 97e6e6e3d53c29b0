//! Device tokens: issued at sign-in, presented at the next one. Only their hash is stored.

use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

pub async fn insert(tx: &mut Tx, hash: &[u8], account: Uuid, now: i64, expires_at: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO trusted_devices (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (token_hash) DO NOTHING"
    )
    .bind(hash)
    .bind(account)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Whose device this token is, if it is still valid.
pub async fn owner(db: &Db, hash: &[u8], now: i64) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "SELECT account_id FROM trusted_devices WHERE token_hash = $1 AND expires_at > $2"
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(pool)
    .await)
}

/// Forgets every device of an account (a password reset: whoever held them may not be the owner).
pub async fn forget_all(tx: &mut Tx, account: Uuid) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM trusted_devices WHERE account_id = $1")
        .bind(account)
        .execute(c)
        .await
        .map(|_| ()))
}
