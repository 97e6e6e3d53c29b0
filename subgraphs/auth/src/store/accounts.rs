//! Accounts, their credentials and their roles.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub email_verified: bool,
    pub admin_locked: bool,
    pub disabled: bool,
    pub phone: Option<String>,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
    /// Set when the user deleted the account: the row is then a tombstone with no personal data.
    pub deleted_at: Option<i64>,
}

pub(super) const COLUMNS: &str = "id, email, username, password_hash, email_verified, admin_locked, disabled, phone, \
                                  mfa_enabled, created_at, deleted_at";

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// [`by_identifier`] with the account's roles, in one statement (a sign-in needs both).
pub async fn by_identifier_with_roles(
    db: &Db,
    identifier: &str,
) -> Result<Option<(Account, Vec<String>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        account: Account,
        role: Option<String>,
    }
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let columns = COLUMNS.split(", ").map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ");
        format!(
            "SELECT {columns}, r.role FROM accounts a LEFT JOIN account_roles r ON r.account_id = a.id \
             WHERE a.email = $1 OR a.username = $1 ORDER BY a.id, r.role"
        )
    });
    let rows: Vec<Row> = on_db!(db, |pool| sqlx::query_as(SQL.as_str()).bind(identifier).fetch_all(pool).await)?;
    let Some(first) = rows.first().map(|r| r.account.id) else { return Ok(None) };
    // Were an email and a username ever to name two accounts, the roles are the first's only.
    let roles = rows.iter().filter(|r| r.account.id == first).filter_map(|r| r.role.clone()).collect();
    Ok(rows.into_iter().next().map(|r| (r.account, roles)))
}

/// The account a sign-in identifier (normalized email or username) names.
pub async fn by_identifier(db: &Db, identifier: &str) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE email = $1 OR username = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(identifier).fetch_optional(pool).await)
}

/// Which of `email` and `username` are taken already.
pub async fn taken(db: &Db, email: &str, username: &str) -> Result<(bool, bool), sqlx::Error> {
    let rows: Vec<(String, String)> =
        on_db!(db, |pool| sqlx::query_as("SELECT email, username FROM accounts WHERE email = $1 OR username = $2")
            .bind(email)
            .bind(username)
            .fetch_all(pool)
            .await)?;
    Ok((rows.iter().any(|r| r.0 == email), rows.iter().any(|r| r.1 == username)))
}

pub async fn insert(
    tx: &mut Tx,
    id: Uuid,
    email: &str,
    username: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO accounts (id, email, username, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(id)
    .bind(email)
    .bind(username)
    .bind(password_hash)
    .bind(Utc::now())
    .execute(c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query("INSERT INTO account_roles (account_id, role) VALUES ($1, 'customer')")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn set_password(tx: &mut Tx, id: Uuid, hash: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(c)
        .await
        .map(|_| ()))
}

/// A rehash on sign-in: only replaces the hash it verified, so a concurrent password change wins.
pub async fn upgrade_hash(db: &Db, id: Uuid, old: &str, new: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2")
        .bind(id)
        .bind(old)
        .bind(new)
        .execute(pool)
        .await
        .map(|_| ()))
}

pub async fn set_email_verified(tx: &mut Tx, id: Uuid) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE accounts SET email_verified = TRUE WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn set_phone(tx: &mut Tx, id: Uuid, phone: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE accounts SET phone = $2 WHERE id = $1")
        .bind(id)
        .bind(phone)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Sets the admin lock or the disabled flag; true when the account exists.
pub async fn set_flag(tx: &mut Tx, id: Uuid, flag: Flag, on: bool) -> Result<bool, sqlx::Error> {
    let sql = match flag {
        Flag::AdminLocked => "UPDATE accounts SET admin_locked = $2 WHERE id = $1",
        Flag::Disabled => "UPDATE accounts SET disabled = $2 WHERE id = $1",
    };
    on_tx!(tx, |c| sqlx::query(sql).bind(id).bind(on).execute(c).await.map(|r| r.rows_affected() == 1))
}

#[derive(Debug, Clone, Copy)]
pub enum Flag {
    AdminLocked,
    Disabled,
}

pub async fn roles(db: &Db, id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT role FROM account_roles WHERE account_id = $1 ORDER BY role")
        .bind(id)
        .fetch_all(pool)
        .await)
}

/// Grants a role; false when the account had it already.
pub async fn add_role(tx: &mut Tx, id: Uuid, role: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO account_roles (account_id, role) VALUES ($1, $2) ON CONFLICT (account_id, role) DO NOTHING"
    )
    .bind(id)
    .bind(role)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Takes a role away; false when the account did not have it.
pub async fn remove_role(tx: &mut Tx, id: Uuid, role: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM account_roles WHERE account_id = $1 AND role = $2")
        .bind(id)
        .bind(role)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Records an address and a user-agent fingerprint in one statement; true when either is new to
/// the account.
pub async fn remember_devices(tx: &mut Tx, id: Uuid, fingerprints: [&str; 2], now: i64) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO known_devices (account_id, fingerprint, first_seen) VALUES ($1, $2, $4), ($1, $3, $4) \
         ON CONFLICT (account_id, fingerprint) DO NOTHING"
    )
    .bind(id)
    .bind(fingerprints[0])
    .bind(fingerprints[1])
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// TOTP state: the secret (pending or confirmed), and whether MFA is on.
pub async fn totp(db: &Db, id: Uuid) -> Result<Option<(Option<Vec<u8>>, bool)>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as("SELECT totp_secret, mfa_enabled FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub async fn set_totp(tx: &mut Tx, id: Uuid, secret: Option<&[u8]>) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE accounts SET totp_secret = $2, mfa_enabled = FALSE, totp_last_step = 0 WHERE id = $1"
    )
    .bind(id)
    .bind(secret)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Turns MFA on for a confirmed secret, keeping the last accepted step.
pub async fn enable_mfa(tx: &mut Tx, id: Uuid) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE accounts SET mfa_enabled = TRUE WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Accepts a TOTP time step once: true only if it is later than every step accepted before,
/// so a code cannot be replayed inside its window, even by parallel requests.
pub async fn claim_totp_step(db: &Db, id: Uuid, step: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| sqlx::query("UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
        .bind(id)
        .bind(step)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Whether any account has the admin role (the bootstrap only runs on an empty system).
pub async fn admin_exists(db: &Db) -> Result<bool, sqlx::Error> {
    let n: i64 = on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM account_roles WHERE role = 'admin'")
        .fetch_one(pool)
        .await)?;
    Ok(n > 0)
}
