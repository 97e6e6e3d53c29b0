//! The key pending messages are sealed under, when none is configured.

use tessera_kit::{db::Db, on_db};

/// Stores `fresh` unless a key is kept already, and returns the kept one (two replicas starting
/// at once both try to insert; the first wins and both read it back).
pub async fn seal_key(db: &Db, fresh: [u8; 32]) -> Result<Vec<u8>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query("INSERT INTO seal_keys (id, key_bytes) VALUES (1, $1) ON CONFLICT DO NOTHING")
        .bind(fresh.to_vec())
        .execute(pool)
        .await
        .map(|_| ()))?;
    on_db!(db, |pool| sqlx::query_scalar("SELECT key_bytes FROM seal_keys WHERE id = 1").fetch_one(pool).await)
}
