//! Preferences: one row per user who changed one; without a row the defaults apply.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx, in_list},
    on_db, on_tx,
};
use uuid::Uuid;

use crate::domain::preferences::{Settings, Theme};

#[derive(Debug, Clone)]
pub struct Stored {
    pub user_id: Uuid,
    pub settings: Settings,
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Stored {
    /// What a user who never changed a setting has.
    pub fn defaults(user_id: Uuid) -> Self {
        Self { user_id, settings: Settings::default(), version: 0, updated_at: None }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Uuid,
    channels: String,
    theme: String,
    language: Option<String>,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_stored(self) -> Stored {
        // A document this code wrote; should it ever not parse, the defaults are the safe reading.
        let routing = serde_json::from_str(&self.channels).unwrap_or_default();
        Stored {
            user_id: self.user_id,
            settings: Settings { routing, theme: Theme::parse(&self.theme), language: self.language },
            version: self.version,
            updated_at: Some(self.updated_at),
        }
    }
}

const COLUMNS: &str = "user_id, channels, theme, language, version, updated_at";

/// The stored preferences of `ids`, in one statement.
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<Stored>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM preferences WHERE user_id IN ({})", in_list(1, ids.len()));
    let rows: Vec<Row> = on_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, Row>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(Row::into_stored).collect())
}

/// The current preferences, read on the transaction's own connection.
pub async fn current(tx: &mut Tx, user_id: Uuid) -> Result<Stored, sqlx::Error> {
    let row: Option<Row> =
        on_tx!(tx, |c| sqlx::query_as(&format!("SELECT {COLUMNS} FROM preferences WHERE user_id = $1"))
            .bind(user_id)
            .fetch_optional(c)
            .await)?;
    Ok(row.map_or_else(|| Stored::defaults(user_id), Row::into_stored))
}

/// Writes `settings` if the stored version is still `expected` (0: no row). Returns the new
/// version, or `None` when another update got there first (the caller reads again and retries).
pub async fn write(tx: &mut Tx, user_id: Uuid, expected: i64, settings: &Settings) -> Result<Option<i64>, sqlx::Error> {
    let channels = serde_json::to_string(&settings.routing).expect("channels serialize");
    let sql = if expected == 0 {
        "INSERT INTO preferences (user_id, channels, theme, language, version, updated_at) \
         VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (user_id) DO NOTHING RETURNING version"
    } else {
        "UPDATE preferences SET channels = $2, theme = $3, language = $4, version = version + 1, updated_at = $5 \
         WHERE user_id = $1 AND version = $6 RETURNING version"
    };
    on_tx!(tx, |c| {
        let query = sqlx::query_scalar::<_, i64>(sql)
            .bind(user_id)
            .bind(&channels)
            .bind(settings.theme.as_str())
            .bind(settings.language.as_deref())
            .bind(Utc::now());
        let query = if expected == 0 { query } else { query.bind(expected) };
        query.fetch_optional(c).await
    })
}

pub async fn delete(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM preferences WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}
