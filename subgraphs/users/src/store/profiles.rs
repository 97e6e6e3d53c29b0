//! Profiles: one row per user, created by `AccountRegistered` or by the user's first update.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx, in_list},
    on_db, on_tx,
};
use uuid::Uuid;

use crate::domain::profile::{Change, ProfileChange};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Profile {
    pub user_id: Uuid,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "user_id, display_name, bio, avatar_url, locale, timezone, version, updated_at";

/// Creates the profile once; a second call for the same user (or a profile the user already
/// made before the event arrived, or a user since erased) changes nothing.
pub async fn create(tx: &mut Tx, user_id: Uuid, display_name: Option<&str>) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO profiles (user_id, display_name, updated_at) \
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM erased_users WHERE user_id = $1) \
         ON CONFLICT (user_id) DO NOTHING"
    )
    .bind(user_id)
    .bind(display_name)
    .bind(Utc::now())
    .execute(c)
    .await
    .map(|_| ()))
}

/// The profiles of `ids` that exist, in one statement whatever the count (entity batches).
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<Profile>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM profiles WHERE user_id IN ({})", in_list(1, ids.len()));
    on_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, Profile>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })
}

/// Applies `change` if the stored version is `expected` (0: no profile yet), in one statement,
/// so of two updates sent with the same version exactly one matches. `None`: the version moved.
pub async fn update(
    tx: &mut Tx,
    user_id: Uuid,
    expected: i64,
    change: &ProfileChange,
) -> Result<Option<Profile>, sqlx::Error> {
    let fields = [
        ("display_name", &change.display_name),
        ("bio", &change.bio),
        ("avatar_url", &change.avatar_url),
        ("locale", &change.locale),
        ("timezone", &change.timezone),
    ];
    let now = Utc::now();
    if expected == 0 {
        // No row yet (AccountRegistered not applied): the update creates it at version 1.
        let values: Vec<Option<&str>> = fields.iter().map(|(_, c)| set_value(c)).collect();
        let sql = format!(
            "INSERT INTO profiles (user_id, display_name, bio, avatar_url, locale, timezone, version, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) ON CONFLICT (user_id) DO NOTHING RETURNING {COLUMNS}"
        );
        return on_tx!(tx, |c| {
            let mut query = sqlx::query_as::<_, Profile>(&sql).bind(user_id);
            for v in &values {
                query = query.bind(*v);
            }
            query.bind(now).fetch_optional(c).await
        });
    }
    let touched: Vec<(&str, Option<&str>)> =
        fields.iter().filter(|(_, c)| !c.is_keep()).map(|(col, c)| (*col, set_value(c))).collect();
    let sets: String = touched.iter().enumerate().map(|(i, (col, _))| format!("{col} = ${}, ", i + 4)).collect();
    let sql = format!(
        "UPDATE profiles SET {sets}version = version + 1, updated_at = $3 \
         WHERE user_id = $1 AND version = $2 RETURNING {COLUMNS}"
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query_as::<_, Profile>(&sql).bind(user_id).bind(expected).bind(now);
        for (_, v) in &touched {
            query = query.bind(*v);
        }
        query.fetch_optional(c).await
    })
}

fn set_value(change: &Change<String>) -> Option<&str> {
    match change {
        Change::Set(v) => Some(v.as_str()),
        Change::Keep | Change::Clear => None,
    }
}

/// The stored version (0: no profile), read on the transaction's own connection.
pub async fn version(tx: &mut Tx, user_id: Uuid) -> Result<i64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>("SELECT version FROM profiles WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(c)
        .await
        .map(|v| v.unwrap_or(0)))
}

pub async fn delete(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM profiles WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM profiles").fetch_one(pool).await)
}
