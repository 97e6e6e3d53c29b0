//! Signing keys and server secrets.

use chrono::{DateTime, Utc};
use tessera_kit::{db::Db, on_db};

/// A stored signing key (its seed sealed, see `vault`) and when it stopped signing, if it has.
#[derive(sqlx::FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub seed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// Every stored key, newest first.
pub async fn signing_keys(db: &Db) -> Result<Vec<StoredKey>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "SELECT kid, seed, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, kid DESC"
    )
    .fetch_all(pool)
    .await)
}

/// Stores a new key with its seed already sealed.
pub async fn insert_signing_key(db: &Db, kid: &str, sealed_seed: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("INSERT INTO signing_keys (kid, seed, created_at) VALUES ($1, $2, $3)")
        .bind(kid)
        .bind(sealed_seed)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Marks a key retired (it keeps verifying until its tokens expire).
pub async fn retire(db: &Db, kid: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL")
        .bind(kid)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Deletes a key whose every token has expired.
pub async fn delete_signing_key(db: &Db, kid: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(pool).await.map(|_| ()))
}

/// A server secret by name, stored as `value` on first use (a racing replica's value wins).
pub async fn server_secret(db: &Db, name: &str, value: Vec<u8>) -> Result<Vec<u8>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
    )
    .bind(name)
    .bind(&value)
    .execute(pool)
    .await
    .map(|_| ()))?;
    on_db!(db, |pool| sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await)
}

/// TOTP secrets stored raw (`len` bytes) by an older version.
pub async fn raw_totp_secrets(db: &Db, len: usize) -> Result<Vec<(uuid::Uuid, Vec<u8>)>, sqlx::Error> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    on_db!(db, |pool| sqlx::query_as("SELECT id, totp_secret FROM accounts WHERE length(totp_secret) = $1")
        .bind(len)
        .fetch_all(pool)
        .await)
}

/// Replaces a raw TOTP secret by its sealed form, if it is still the raw one.
pub async fn replace_totp_secret(db: &Db, id: uuid::Uuid, raw: &[u8], sealed: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE accounts SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2")
        .bind(id)
        .bind(raw)
        .bind(sealed)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Signing seeds stored raw by an older version.
pub async fn raw_seeds(db: &Db, len: usize) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    on_db!(db, |pool| sqlx::query_as("SELECT kid, seed FROM signing_keys WHERE length(seed) = $1")
        .bind(len)
        .fetch_all(pool)
        .await)
}

pub async fn replace_seed(db: &Db, kid: &str, raw: &[u8], sealed: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE signing_keys SET seed = $3 WHERE kid = $1 AND seed = $2")
        .bind(kid)
        .bind(raw)
        .bind(sealed)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Server secrets stored raw by an older version.
pub async fn raw_server_secrets(db: &Db, len: usize) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    on_db!(db, |pool| sqlx::query_as("SELECT name, value FROM server_secrets WHERE length(value) = $1")
        .bind(len)
        .fetch_all(pool)
        .await)
}

pub async fn replace_server_secret(db: &Db, name: &str, raw: &[u8], sealed: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE server_secrets SET value = $3 WHERE name = $1 AND value = $2")
        .bind(name)
        .bind(raw)
        .bind(sealed)
        .execute(pool)
        .await
        .map(|_| ()))
}
