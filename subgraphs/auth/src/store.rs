//! The auth subgraph's SQL, and nothing else.

use chrono::{DateTime, Utc};
use tessera_kit::{db::Db, jwt::SigningKey, on_db};
use uuid::Uuid;

/// Active signing keys, newest first.
pub async fn signing_keys(db: &Db) -> Result<Vec<SigningKey>, sqlx::Error> {
    let rows: Vec<(String, Vec<u8>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT kid, seed FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC"
    )
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(kid, seed)| {
            let seed: [u8; 32] = seed.try_into().ok()?;
            Some(SigningKey::from_seed(kid, seed))
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

pub async fn account(db: &Db, id: Uuid) -> Result<Option<Account>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as("SELECT id, email, username, created_at FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)
}
