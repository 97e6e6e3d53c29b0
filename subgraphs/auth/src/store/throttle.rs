//! Fixed-window counters in the database: per-IP and per-destination budgets that every
//! replica shares, with no Redis needed.

use tessera_kit::{db::Db, on_db};

/// Counts one use of `key` in the current window of `window` seconds and returns the count
/// so far, this one included. One statement, so parallel callers each see a distinct count.
pub async fn hit(db: &Db, key: &str, window: i64, now: i64) -> Result<i64, sqlx::Error> {
    let start = now - now.rem_euclid(window);
    on_db!(db, |pool| sqlx::query_scalar(
        "INSERT INTO throttles (key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           count = CASE WHEN throttles.window_start = $2 THEN throttles.count + 1 ELSE 1 END, \
           window_start = $2 \
         RETURNING count"
    )
    .bind(key)
    .bind(start)
    .fetch_one(pool)
    .await)
}

/// A reserved attempt: its number among consecutive failures (this one included), the locks
/// earned so far, the current lock's end, and when the last attempt within the budget was
/// reserved (this one, if it is within).
pub struct Reserved {
    pub count: i64,
    pub locks: i64,
    pub locked_until: Option<i64>,
    pub admitted_at: Option<i64>,
}

/// Reserves a sign-in attempt for an identifier whose budget is `threshold` attempts. The count
/// goes up before the password is checked, so N parallel guesses get N distinct numbers and only
/// the first few are evaluated. An expired lock starts a fresh count.
pub async fn reserve_attempt(db: &Db, identifier: &str, now: i64, threshold: i64) -> Result<Reserved, sqlx::Error> {
    let row: (i64, i64, Option<i64>, Option<i64>) = on_db!(db, |pool| {
        sqlx::query_as(
        "INSERT INTO login_attempts (identifier, failures, locks, locked_until, admitted_at) VALUES ($1, 1, 0, NULL, $2) \
         ON CONFLICT (identifier) DO UPDATE SET \
           failures = CASE WHEN login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $2 \
                      THEN 1 ELSE login_attempts.failures + 1 END, \
           locked_until = CASE WHEN login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $2 \
                      THEN NULL ELSE login_attempts.locked_until END, \
           admitted_at = CASE WHEN (login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $2) \
                                   OR login_attempts.failures + 1 <= $3 \
                      THEN $2 ELSE login_attempts.admitted_at END \
         RETURNING failures, locks, locked_until, admitted_at"
    )
    .bind(identifier)
    .bind(now)
    .bind(threshold)
    .fetch_one(pool)
    .await
    })?;
    Ok(Reserved { count: row.0, locks: row.1, locked_until: row.2, admitted_at: row.3 })
}

/// Gives back a reserved attempt that never checked a password (the request was shed).
pub async fn release_attempt(db: &Db, identifier: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE login_attempts SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE identifier = $1"
    )
    .bind(identifier)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// A successful sign-in: the count and the lock history start over.
pub async fn clear_attempts(db: &Db, identifier: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query("DELETE FROM login_attempts WHERE identifier = $1")
        .bind(identifier)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// The sign-in failure count of an account, whichever identifier named it: counting the email
/// and the username apart would double the guesses.
pub fn account_key(id: uuid::Uuid) -> String {
    format!("account:{id}")
}

/// The second-factor failure count of an account, across every challenge and check.
pub fn mfa_key(id: uuid::Uuid) -> String {
    format!("mfa:{id}")
}

/// The failure count of one known device on its account.
pub fn device_key(token_hash: &[u8]) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    format!("device:{}", URL_SAFE_NO_PAD.encode(token_hash))
}

/// Clears an account's sign-in count (an unlock, a reset); `second_factor` clears the MFA
/// count too (an admin's unlock).
pub async fn clear_account(db: &Db, account: &super::Account, second_factor: bool) -> Result<(), sqlx::Error> {
    clear_attempts(db, &account_key(account.id)).await?;
    if second_factor {
        clear_attempts(db, &mfa_key(account.id)).await?;
    }
    Ok(())
}

/// Locks an identifier until `until`; true for the caller that set the lock.
pub async fn lock(db: &Db, identifier: &str, until: i64, now: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE login_attempts SET locked_until = $2, locks = locks + 1 \
         WHERE identifier = $1 AND (locked_until IS NULL OR locked_until <= $3)"
    )
    .bind(identifier)
    .bind(until)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// [`clear_attempts`] inside a transaction (the sign-in's own, to save a write).
pub async fn clear_attempts_in(tx: &mut tessera_kit::db::Tx, identifier: &str) -> Result<(), sqlx::Error> {
    tessera_kit::on_tx!(tx, |c| sqlx::query("DELETE FROM login_attempts WHERE identifier = $1")
        .bind(identifier)
        .execute(c)
        .await
        .map(|_| ()))
}
