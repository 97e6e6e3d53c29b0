//! Signing keys and server secrets.

use chrono::{DateTime, Utc};
use tessera_kit::{db::Db, jwt::SigningKey, on_db};

/// A stored signing key and when it stopped signing, if it has.
pub struct StoredKey {
    pub key: SigningKey,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// A `signing_keys` row: kid, seed, created, retired.
type KeyRow = (String, Vec<u8>, DateTime<Utc>, Option<DateTime<Utc>>);

/// Every stored key, newest first.
pub async fn signing_keys(db: &Db) -> Result<Vec<StoredKey>, sqlx::Error> {
    let rows: Vec<KeyRow> = on_db!(db, |pool| sqlx::query_as(
        "SELECT kid, seed, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, kid DESC"
    )
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(kid, seed, created_at, retired_at)| {
            let seed: [u8; 32] = seed.try_into().ok()?;
            Some(StoredKey { key: SigningKey::from_seed(kid, seed), created_at, retired_at })
        })
        .collect())
}

pub async fn insert_signing_key(db: &Db, key: &SigningKey) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("INSERT INTO signing_keys (kid, seed, created_at) VALUES ($1, $2, $3)")
        .bind(&key.kid)
        .bind(key.seed().as_slice())
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
