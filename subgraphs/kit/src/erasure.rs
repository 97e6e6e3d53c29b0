//! The ids of users who deleted their account, kept by each subgraph that must not recreate their
//! data: a late event (another subgraph's outbox is not ordered with auth's) or a token used
//! straight against a subgraph (which does not see revocations) must not bring anything back.
//! The subgraph's own migration creates `erased_users (user_id PRIMARY KEY)`.

use uuid::Uuid;

use crate::{db::Tx, on_tx};

pub async fn mark_erased(tx: &mut Tx, user_id: Uuid) -> Result<(), sqlx::Error> {
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
