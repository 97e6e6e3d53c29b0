//! The local projection of what the events say about each user: the address to write to, the
//! name to greet, the language, and the notification channels they chose. Reading it here, not
//! asking auth and users per message, keeps sending working while they are down.

use tessera_kit::{db::Tx, on_tx};
use uuid::Uuid;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Recipient {
    pub user_id: Uuid,
    pub email: Option<String>,
    /// The number auth verified (`PhoneVerified`); SMS to the user need it.
    pub phone: Option<String>,
    pub username: Option<String>,
    pub language: Option<String>,
    /// The `channels` document of the last `PreferencesChanged`; `None` until the user changes one.
    pub channels: Option<String>,
    pub version: i64,
}

pub async fn get(tx: &mut Tx, user_id: Uuid) -> Result<Option<Recipient>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(
        "SELECT user_id, email, phone, username, language, channels, version FROM recipients WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(c)
    .await)
}

/// Records where to reach the user (from `AccountRegistered`, `LoginFromNewDevice`).
pub async fn save_contact(tx: &mut Tx, user_id: Uuid, email: &str, username: Option<&str>) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO recipients (user_id, email, username) VALUES ($1, $2, $3) ON CONFLICT (user_id) \
         DO UPDATE SET email = excluded.email, username = COALESCE(excluded.username, recipients.username)"
    )
    .bind(user_id)
    .bind(email)
    .bind(username)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Records the user's verified phone number (from `PhoneVerified`).
pub async fn save_phone(tx: &mut Tx, user_id: Uuid, phone: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO recipients (user_id, phone) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone"
    )
    .bind(user_id)
    .bind(phone)
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// Applies a `PreferencesChanged` unless a newer version is already here: events of one user can
/// arrive out of order (two consumers, a redelivery), and the newest choice must win.
pub async fn save_preferences(
    tx: &mut Tx,
    user_id: Uuid,
    version: i64,
    language: Option<&str>,
    channels: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO recipients (user_id, language, channels, version) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, channels = excluded.channels, \
         version = excluded.version WHERE recipients.version < excluded.version"
    )
    .bind(user_id)
    .bind(language)
    .bind(channels)
    .bind(version)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn delete_for(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM recipients WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}
