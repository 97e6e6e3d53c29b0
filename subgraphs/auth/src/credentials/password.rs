//! The password check every resolver that takes a password uses (`login`, `reauthenticate`,
//! `disableTotp`, `changePassword`, `deleteMyAccount`). The protections, in order:
//! - the failure count, reserved before any password is checked, so parallel guesses cannot
//!   overrun it. It is kept per account whichever identifier named it (the email and the
//!   username share one budget); an identifier that names no account has its own.
//! - a device that signed in to this account before (it presents its device token) counts on
//!   its own budget instead, so failures from elsewhere cannot lock its owner out (OWASP's
//!   "device cookies");
//! - the hash capacity (shed, never queued without bound);
//! - one argon2id verification, against a dummy hash for unknown identifiers, so that an unknown
//!   identifier and a wrong password look the same.

use tessera_kit::{ApiError, client::ClientInfo};

use crate::{
    State,
    audit::{self, SecurityEventKind},
    credentials::hasher::Verdict,
    domain::secret,
    error,
    store::{self, Account, throttle},
};

/// What a password check is about.
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    /// The normalized email or username.
    pub identifier: &'a str,
    pub password: &'a str,
    /// The device token the client presented, if any.
    pub device: Option<&'a str>,
}

/// A right password: the account, and the failure-count key to clear when the caller's
/// transaction commits (see [`clear`]).
pub struct Checked {
    pub account: Account,
    /// The account's roles, read with it.
    pub roles: Vec<String>,
    pub budget: String,
    /// The attempt came from a device that signed in to this account before.
    pub known_device: bool,
}

/// The account whose password this is, or the one answer every failure gets. Counts the failure
/// towards the budget, and upgrades an outdated hash. The caller clears the budget (in its own
/// transaction, or with [`clear`]).
pub async fn check(state: &State, client: &ClientInfo, attempt: Attempt<'_>) -> Result<Checked, ApiError> {
    let db = &state.rt.db;
    let policy = state.policy();
    let now = store::now();
    let (account, roles) = store::accounts::by_identifier_with_roles(db, attempt.identifier).await?.unzip();
    let (budget, known_device) = budget_key(state, account.as_ref(), attempt, now).await?;
    let reserved = throttle::reserve_attempt(db, &budget, now, policy.lockout_threshold).await?;
    let (count, locks) = (reserved.count, reserved.locks);
    if let Some(until) = reserved.locked_until.filter(|u| *u > now) {
        return Err(error::locked(Some(until - now)));
    }
    if count > policy.lockout_threshold {
        let id = account.as_ref().map(|a| a.id);
        return Err(match over_budget(db, &budget, &reserved, now, lock_seconds(policy, locks)).await? {
            OverBudget::InProgress => error::attempts_in_progress(),
            OverBudget::Locked { seconds, set } => {
                if set {
                    let detail = format!("{seconds} s after {} attempts that never finished", count - 1);
                    audit::record_alone(db, id, SecurityEventKind::AccountLockedOut, client, detail).await?;
                }
                error::locked(Some(seconds))
            }
        });
    }
    let Ok(admission) = state.hasher.admit() else {
        throttle::release_attempt(db, &budget).await?;
        return Err(error::busy());
    };
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let password = crate::domain::password::normalize(attempt.password);
    let verdict = state.hasher.verify(admission, password.clone(), stored.clone()).await;
    let id = account.as_ref().map(|a| a.id);
    let Some(account) = account.filter(|_| verdict != Verdict::Wrong) else {
        let failure = Failure { budget: &budget, count, locks, now };
        return Err(failed(state, client, id, failure).await);
    };
    if verdict == Verdict::RightButRehash {
        upgrade_hash(state, account.id, stored.unwrap_or_default(), password);
    }
    Ok(Checked { account, roles: roles.unwrap_or_default(), budget, known_device })
}

/// [`check`] for a signed-in caller re-entering their password: the budget is cleared at once.
pub async fn confirm(state: &State, client: &ClientInfo, account: &Account, password: &str) -> Result<(), ApiError> {
    let attempt = Attempt { identifier: &account.username, password, device: None };
    let checked = check(state, client, attempt).await.map_err(|e| {
        if e.code == tessera_kit::ErrorCode::Unauthenticated {
            ApiError::bad_input("password", "The password is not right.")
        } else {
            e
        }
    })?;
    Ok(throttle::clear_attempts(&state.rt.db, &checked.budget).await?)
}

/// Which failure count this attempt spends: the device's own when it presents a live device
/// token of this very account (then true), else the account's, else (no account) the
/// identifier's.
async fn budget_key(
    state: &State,
    account: Option<&Account>,
    attempt: Attempt<'_>,
    now: i64,
) -> Result<(String, bool), ApiError> {
    let Some(account) = account else { return Ok((format!("identifier:{}", attempt.identifier), false)) };
    if let Some(token) = attempt.device.map(str::trim).filter(|t| !t.is_empty() && t.len() <= 128) {
        let hash = secret::token_hash(token);
        if store::devices::owner(&state.rt.db, &hash, now).await? == Some(account.id) {
            return Ok((throttle::device_key(&hash), true));
        }
    }
    Ok((throttle::account_key(account.id), false))
}

/// How long an admitted attempt may still be being checked: far longer than any check takes
/// (the hashing queue is bounded, and a hash whose caller has gone is skipped).
const IN_FLIGHT_SECONDS: i64 = 60;

/// What an attempt past the budget meets when no lock is stored.
pub(super) enum OverBudget {
    /// The admitted attempts may still be being checked, and the last of them decides the lock.
    /// This one checked nothing, so it was given back: someone whose own parallel sign-ins
    /// overlap is asked to retry, not told their account is locked.
    InProgress,
    /// The admitted attempts were reserved long ago and none of them stored a lock or cleared
    /// the count: they never finished (their requests were dropped, or the process stopped).
    /// They count as the failures they might have been, and the budget locks now, as the
    /// failure that reached the threshold would have. Without this, nothing would ever lock,
    /// expire or clear the count, and the budget would refuse every attempt for good. `set`:
    /// this call stored the lock.
    Locked { seconds: i64, set: bool },
}

pub(super) async fn over_budget(
    db: &tessera_kit::db::Db,
    key: &str,
    reserved: &throttle::Reserved,
    now: i64,
    lock_for: i64,
) -> Result<OverBudget, sqlx::Error> {
    if reserved.admitted_at.is_some_and(|at| now - at < IN_FLIGHT_SECONDS) {
        throttle::release_attempt(db, key).await?;
        return Ok(OverBudget::InProgress);
    }
    let set = throttle::lock(db, key, now + lock_for, now).await?;
    Ok(OverBudget::Locked { seconds: lock_for, set })
}

pub fn lock_seconds(policy: &tessera_kit::config::IdentityConfig, locks: i64) -> i64 {
    let doubling = 1_i64 << locks.clamp(0, 20);
    policy.lockout_base_seconds.saturating_mul(doubling).min(policy.lockout_max_seconds)
}

/// One failed check: the budget it was counted on, and its place in the count.
struct Failure<'a> {
    budget: &'a str,
    count: i64,
    locks: i64,
    now: i64,
}

/// Records a failed sign-in and, on the attempt that reaches the threshold, locks.
async fn failed(state: &State, client: &ClientInfo, account: Option<uuid::Uuid>, failure: Failure<'_>) -> ApiError {
    let db = &state.rt.db;
    let Failure { budget, count, locks, now } = failure;
    let mut result = audit::record_alone(db, account, SecurityEventKind::LoginFailed, client, "").await;
    if count >= state.policy().lockout_threshold {
        let seconds = lock_seconds(state.policy(), locks);
        match throttle::lock(db, budget, now + seconds, now).await {
            Ok(true) => {
                let detail = format!("{seconds} s after {count} failures");
                result = audit::record_alone(db, account, SecurityEventKind::AccountLockedOut, client, detail).await;
            }
            Ok(false) => {}
            Err(e) => result = Err(e),
        }
    }
    match result {
        Ok(()) => error::bad_credentials(),
        Err(e) => e.into(),
    }
}

/// Re-hashes with the current parameters, in the background and only if there is capacity:
/// a sign-in never waits for it.
fn upgrade_hash(state: &State, id: uuid::Uuid, old: String, password: String) {
    let state = state.clone();
    tokio::spawn(async move {
        let Ok(admission) = state.hasher.admit() else { return };
        match state.hasher.hash(admission, password).await {
            Ok(new) => {
                if let Err(e) = store::accounts::upgrade_hash(&state.rt.db, id, &old, &new).await {
                    tracing::warn!(error = %e, "could not store an upgraded password hash");
                }
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), "could not upgrade a password hash"),
        }
    });
}
