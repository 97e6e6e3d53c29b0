//! Erasing an account's personal data when its owner deletes it. The account row stays as a
//! tombstone (the id must never be reused, and sign-in must keep failing), with the email and
//! username replaced by placeholders that name only the id; everything else about the person
//! (sessions with their addresses and devices, codes, devices, roles, the audit trail, the
//! counters keyed by their email, username or phone) is deleted.

use tessera_kit::{db::Tx, on_tx};
use uuid::Uuid;

use super::Account;

/// The placeholders a deleted account keeps. The username is longer than any username the rules
/// accept, so nobody can register it.
pub fn placeholders(id: Uuid) -> (String, String) {
    let simple = id.simple();
    (format!("deleted+{simple}@deleted.invalid"), format!("deleted-{simple}"))
}

pub async fn erase(tx: &mut Tx, account: &Account, now: i64) -> Result<(), sqlx::Error> {
    let id = account.id;
    let (email, username) = placeholders(id);
    on_tx!(tx, |c| sqlx::query(
        "UPDATE accounts SET email = $2, username = $3, password_hash = '', phone = NULL, totp_secret = NULL, \
         mfa_enabled = FALSE, email_verified = FALSE, disabled = TRUE, deleted_at = $4 WHERE id = $1"
    )
    .bind(id)
    .bind(&email)
    .bind(&username)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ()))?;
    let by_account = [
        "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE account_id = $1)",
        "DELETE FROM sessions WHERE account_id = $1",
        "DELETE FROM account_roles WHERE account_id = $1",
        "DELETE FROM known_devices WHERE account_id = $1",
        "DELETE FROM trusted_devices WHERE account_id = $1",
        "DELETE FROM one_time_codes WHERE account_id = $1",
        "DELETE FROM reset_tokens WHERE account_id = $1",
        "DELETE FROM mfa_challenges WHERE account_id = $1",
        "DELETE FROM recovery_codes WHERE account_id = $1",
        "DELETE FROM security_events WHERE account_id = $1",
    ];
    for sql in by_account {
        on_tx!(tx, |c| sqlx::query(sql).bind(id).execute(c).await.map(|_| ()))?;
    }
    // Counters keyed by what identified the person.
    let mut keys = vec![
        account.email.clone(),
        account.username.clone(),
        format!("codes:{}", account.email),
        format!("reset:{id}"),
        super::throttle::account_key(id),
        super::throttle::mfa_key(id),
    ];
    if let Some(phone) = &account.phone {
        keys.push(format!("codes:{phone}"));
    }
    for key in &keys {
        on_tx!(tx, |c| sqlx::query("DELETE FROM login_attempts WHERE identifier = $1")
            .bind(key)
            .execute(c)
            .await
            .map(|_| ()))?;
        on_tx!(tx, |c| sqlx::query("DELETE FROM throttles WHERE key = $1").bind(key).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
