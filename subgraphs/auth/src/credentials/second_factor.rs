//! Second factors: TOTP codes, recovery codes and step-up codes, all spending one budget per
//! account. Each guess is counted before it is compared, atomically, across every challenge,
//! sign-in and resolver, so a fresh MFA challenge buys no fresh guesses. Past
//! `mfa_lockout_threshold` wrong codes the second factor locks, with the sign-in lock's backoff,
//! and the owner is told by email: someone who has the password is guessing.

use std::future::Future;

use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    client::ClientInfo,
};
use uuid::Uuid;

use super::password::{OverBudget, lock_seconds, over_budget};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    domain::totp,
    error,
    store::{self, Account, throttle},
};

/// Checks a second factor, a TOTP code (six digits, never twice) or an unused recovery code,
/// within the account's budget. `Ok(false)`: wrong; `Err`: locked (or a storage failure).
pub async fn verify(state: &State, account: &Account, code: &str, client: &ClientInfo) -> Result<bool, ApiError> {
    budgeted(state, account, client, evaluate(state, account.id, code.trim(), client)).await
}

/// Runs `check` (a code comparison) as one guess on the account's second-factor budget.
pub async fn budgeted(
    state: &State,
    account: &Account,
    client: &ClientInfo,
    check: impl Future<Output = Result<bool, ApiError>>,
) -> Result<bool, ApiError> {
    let db = &state.rt.db;
    let policy = state.policy();
    let key = throttle::mfa_key(account.id);
    let now = store::now();
    let reserved = throttle::reserve_attempt(db, &key, now, policy.mfa_lockout_threshold).await?;
    let (count, locks) = (reserved.count, reserved.locks);
    if let Some(until) = reserved.locked_until.filter(|u| *u > now) {
        return Err(locked(until - now));
    }
    if count > policy.mfa_lockout_threshold {
        return Err(match over_budget(db, &key, &reserved, now, lock_seconds(policy, locks)).await? {
            OverBudget::InProgress => crate::error::attempts_in_progress(),
            OverBudget::Locked { seconds, set } => {
                if set {
                    announce_lock(state, account, client, seconds, count - 1).await?;
                }
                locked(seconds)
            }
        });
    }
    if check.await? {
        throttle::clear_attempts(db, &key).await?;
        return Ok(true);
    }
    audit::record_alone(db, Some(account.id), SecurityEventKind::MfaFailed, client, format!("{count} in a row"))
        .await?;
    if count >= policy.mfa_lockout_threshold {
        let seconds = lock_seconds(policy, locks);
        if throttle::lock(db, &key, now + seconds, now).await? {
            announce_lock(state, account, client, seconds, count).await?;
        }
    }
    Ok(false)
}

fn locked(retry_after: i64) -> ApiError {
    let minutes = (retry_after + 59) / 60;
    ApiError::new(
        tessera_kit::ErrorCode::AccountLocked,
        format!("Too many wrong codes. Two-factor sign-in is locked for {minutes} minute(s); we emailed you."),
    )
    .with("retryAfterSeconds", retry_after.max(1))
    .with("reason", "SECOND_FACTOR_LOCKED")
}

/// Records the lock and tells the owner, in one transaction.
async fn announce_lock(
    state: &State,
    account: &Account,
    client: &ClientInfo,
    seconds: i64,
    count: i64,
) -> Result<(), ApiError> {
    let mut tx = state.rt.db.begin().await?;
    let detail = format!("{seconds} s after {count} wrong codes");
    audit::record(&mut tx, Some(account.id), SecurityEventKind::SecondFactorLockedOut, client, detail).await?;
    let payload = json!({
        "userId": account.id, "email": account.email, "username": account.username, "lockedSeconds": seconds,
    });
    outbox::enqueue(&mut tx, &Event::new("SecondFactorLocked", payload)).await?;
    tx.commit().await?;
    state.rt.relay.poke();
    Ok(())
}

/// The comparison itself, without the budget.
async fn evaluate(state: &State, id: Uuid, code: &str, client: &ClientInfo) -> Result<bool, ApiError> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let Some((Some(stored), true)) = store::accounts::totp(&state.rt.db, id).await? else { return Ok(false) };
        let secret = crate::vault::open_totp(&state.vault, id, &stored).map_err(ApiError::internal)?;
        return totp_ok(state, id, &secret, code).await;
    }
    if code.is_empty() || code.len() > 32 {
        return Ok(false);
    }
    let used = store::codes::spend_recovery(&state.rt.db, id, &recovery_hash(state, id, code), store::now()).await?;
    if used {
        let left = store::codes::recovery_left(&state.rt.db, id).await?;
        let detail = format!("{left} left");
        audit::record_alone(&state.rt.db, Some(id), SecurityEventKind::RecoveryCodeUsed, client, detail).await?;
    }
    Ok(used)
}

fn unix_now() -> u64 {
    u64::try_from(store::now()).unwrap_or_default()
}

/// A TOTP code, accepted once: its time step must be later than any accepted before.
pub async fn totp_ok(state: &State, id: Uuid, secret: &[u8], code: &str) -> Result<bool, ApiError> {
    match totp::matching_step(secret, code.trim(), unix_now()) {
        Some(step) => Ok(store::accounts::claim_totp_step(&state.rt.db, id, step).await?),
        None => Ok(false),
    }
}

/// The stored form of a recovery code (dashes and case do not matter).
pub fn recovery_hash(state: &State, id: Uuid, code: &str) -> Vec<u8> {
    let mut clean: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    if clean.len() == 10 {
        clean.insert(5, '-');
    }
    state.code_key.code_hash(&format!("recovery:{id}"), &clean)
}

/// The error for a wrong second factor, on `field`.
pub fn wrong(field: &str) -> ApiError {
    error::bad_code(field, "authenticator or recovery code")
}
