//! The users subgraph's SQL, and nothing else.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Profile {
    pub user_id: Uuid,
    pub display_name: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// Creates the profile once; a second call for the same user changes nothing.
pub async fn create_profile(tx: &mut Tx, user_id: Uuid, display_name: Option<&str>) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO profiles (user_id, display_name, updated_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING"
    )
    .bind(user_id)
    .bind(display_name)
    .bind(Utc::now())
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn profile(db: &Db, user_id: Uuid) -> Result<Option<Profile>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "SELECT user_id, display_name, version, updated_at FROM profiles WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)
}

pub async fn profile_count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM profiles").fetch_one(pool).await)
}
