//! The ids of users who deleted their account, so nothing recreates their data.

use tessera_kit::{db::Tx, on_tx};
use uuid::Uuid;

pub async fn mark(tx: &mut Tx, user_id: Uuid) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("INSERT INTO erased_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Read on the transaction's own connection, so the answer holds for the write that follows.
pub async fn is_erased(tx: &mut Tx, user_id: Uuid) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM erased_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(c)
        .await
        .map(|n| n > 0))
}
