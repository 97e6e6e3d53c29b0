//! `login` and `verifyMfa`. The protections, in order: the identifier's lock (counted before
//! any password is checked, so parallel guesses cannot overrun it), the hash capacity (shed,
//! never queued without bound), then one argon2id verification, against a dummy hash for
//! unknown identifiers so that an unknown identifier and a wrong password look the same.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::{ApiError, client::ClientInfo};

use super::{User, client, mfa::second_factor, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    error,
    password::Verdict,
    rules, secret,
    store::{self, Account},
    tokens::{self, Tokens},
};

#[derive(InputObject)]
pub struct LoginInput {
    /// The email address or the username.
    pub identifier: String,
    pub password: String,
}

#[derive(SimpleObject, Default)]
pub struct LoginPayload {
    /// The signed-in user; null while an MFA code is still needed.
    pub user: Option<User>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// True when the password was right and an authenticator (or recovery) code is needed:
    /// call `verifyMfa` with `mfaChallenge`.
    pub mfa_required: bool,
    pub mfa_challenge: Option<String>,
}

impl LoginPayload {
    fn signed_in(account: Account, t: Tokens) -> Self {
        Self {
            user: Some(User::from_account(account)),
            access_token: Some(t.access_token),
            refresh_token: Some(t.refresh_token),
            expires_at: Some(t.expires_at),
            ..Self::default()
        }
    }
}

#[derive(InputObject)]
pub struct VerifyMfaInput {
    /// The `mfaChallenge` that `login` returned.
    pub challenge: String,
    /// The six-digit code from the authenticator app, or an unused recovery code.
    pub code: String,
}

#[derive(Default)]
pub struct LoginMutation;

/// Wrong codes one MFA challenge allows.
const CHALLENGE_ATTEMPTS: i64 = 5;

#[Object]
impl LoginMutation {
    /// Signs in with an email or username and a password.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<LoginPayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let identifier = rules::normalize_identifier(&input.identifier);
        if identifier.is_empty() || identifier.len() > 254 {
            return Err(ApiError::bad_input("identifier", "Enter your email address or username."));
        }
        if input.password.len() > 4 * rules::PASSWORD_MAX {
            return Err(ApiError::bad_input("password", "A password has at most 128 characters."));
        }
        // The lock count is cleared in the sign-in's own transaction (one write fewer per login).
        let account = check_password(state, client, &identifier, &input.password, false).await?;
        let policy = state.policy();
        if account.disabled {
            return Err(ApiError::forbidden("This account has been disabled. Contact support."));
        }
        if account.admin_locked {
            return Err(error::locked(None));
        }
        if policy.require_verified_email && !account.email_verified {
            return Err(ApiError::forbidden("Verify your email address first: use the code we sent you.")
                .with("reason", "EMAIL_NOT_VERIFIED"));
        }
        let now = store::now();
        if account.mfa_enabled {
            let challenge = secret::token();
            let expires = now + policy.mfa_challenge_seconds;
            store::codes::insert_challenge(&state.rt.db, &secret::token_hash(&challenge), account.id, expires).await?;
            store::throttle::clear_attempts(&state.rt.db, &identifier).await?;
            audit::record_alone(&state.rt.db, Some(account.id), SecurityEventKind::MfaChallenged, client, "").await?;
            return Ok(LoginPayload { mfa_required: true, mfa_challenge: Some(challenge), ..LoginPayload::default() });
        }
        let tokens = sign_in(state, &account, client, "password", Some(&identifier)).await?;
        Ok(LoginPayload::signed_in(account, tokens))
    }

    /// Completes a sign-in that needs a second factor.
    async fn verify_mfa(&self, ctx: &Context<'_>, input: VerifyMfaInput) -> Result<LoginPayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let hash = secret::token_hash(input.challenge.trim());
        let expired = || ApiError::unauthenticated("This sign-in has expired or was already completed. Sign in again.");
        let now = store::now();
        let Some(id) = store::codes::attempt_challenge(&state.rt.db, &hash, now, CHALLENGE_ATTEMPTS).await? else {
            return Err(expired());
        };
        if !second_factor(state, id, &input.code, client).await? {
            audit::record_alone(&state.rt.db, Some(id), SecurityEventKind::MfaFailed, client, "").await?;
            return Err(ApiError::bad_input("code", "This code is wrong. Use the current code from your app."));
        }
        let account = store::accounts::by_id(&state.rt.db, id).await?.ok_or_else(expired)?;
        let mut tx = state.rt.db.begin().await?;
        if !store::codes::spend_challenge(&mut tx, &hash, now).await? {
            return Err(expired());
        }
        tx.commit().await?;
        let tokens = sign_in(state, &account, client, "password and second factor", None).await?;
        Ok(LoginPayload::signed_in(account, tokens))
    }
}

/// Starts a session and records the sign-in.
async fn sign_in(
    state: &State,
    account: &Account,
    client: &ClientInfo,
    how: &str,
    clear: Option<&str>,
) -> Result<Tokens, ApiError> {
    let roles = store::accounts::roles(&state.rt.db, account.id).await?;
    let mut tx = state.rt.db.begin().await?;
    if let Some(identifier) = clear {
        store::throttle::clear_attempts_in(&mut tx, identifier).await?;
    }
    let tokens = tokens::start_session(state, &mut tx, account, roles, client).await?;
    audit::record(&mut tx, Some(account.id), SecurityEventKind::LoginSucceeded, client, how).await?;
    tx.commit().await?;
    state.rt.relay.poke();
    Ok(tokens)
}

/// The account whose password this is, or the one answer every failure gets. Also counts the
/// failure towards the identifier's lock, and upgrades an outdated hash. With `clear`, a success
/// clears the identifier's count here; without, the caller must (see `login`).
pub(super) async fn check_password(
    state: &State,
    client: &ClientInfo,
    identifier: &str,
    password: &str,
    clear: bool,
) -> Result<Account, ApiError> {
    let db = &state.rt.db;
    let policy = state.policy();
    let now = store::now();
    let (attempt, locks, locked_until) = store::throttle::reserve_attempt(db, identifier, now).await?;
    if let Some(until) = locked_until.filter(|u| *u > now) {
        return Err(error::locked(Some(until - now)));
    }
    if attempt > policy.lockout_threshold {
        // Earlier attempts are still being checked; the last of them decides the lock.
        return Err(error::locked(Some(lock_seconds(policy, locks))));
    }
    let Ok(admission) = state.hasher.admit() else {
        store::throttle::release_attempt(db, identifier).await?;
        return Err(error::busy());
    };
    let account = store::accounts::by_identifier(db, identifier).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let password = rules::normalize_password(password);
    let verdict = state.hasher.verify(&admission, password.clone(), stored.clone()).await;
    drop(admission);
    let Some(account) = account.as_ref().filter(|_| verdict != Verdict::Wrong).cloned() else {
        let failure = Failure { account: account.map(|a| a.id), attempt, locks, now };
        return Err(failed(state, client, identifier, failure).await);
    };
    if clear {
        store::throttle::clear_attempts(db, identifier).await?;
    }
    if verdict == Verdict::RightButRehash {
        upgrade_hash(state, account.id, stored.unwrap_or_default(), password);
    }
    Ok(account)
}

fn lock_seconds(policy: &tessera_kit::config::IdentityConfig, locks: i64) -> i64 {
    let doubling = 1_i64 << locks.clamp(0, 20);
    policy.lockout_base_seconds.saturating_mul(doubling).min(policy.lockout_max_seconds)
}

/// One failed sign-in: whose (if the identifier names an account), and its place in the count.
struct Failure {
    account: Option<uuid::Uuid>,
    attempt: i64,
    locks: i64,
    now: i64,
}

/// Records a failed sign-in and, on the attempt that reaches the threshold, locks.
async fn failed(state: &State, client: &ClientInfo, identifier: &str, failure: Failure) -> ApiError {
    let db = &state.rt.db;
    let Failure { account, attempt, locks, now } = failure;
    let mut result = audit::record_alone(db, account, SecurityEventKind::LoginFailed, client, "").await;
    if attempt >= state.policy().lockout_threshold {
        let seconds = lock_seconds(state.policy(), locks);
        match store::throttle::lock(db, identifier, now + seconds, now).await {
            Ok(true) => {
                let detail = format!("{seconds} s after {attempt} failures");
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
        match state.hasher.hash(&admission, password).await {
            Ok(new) => {
                if let Err(e) = store::accounts::upgrade_hash(&state.rt.db, id, &old, &new).await {
                    tracing::warn!(error = %e, "could not store an upgraded password hash");
                }
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), "could not upgrade a password hash"),
        }
    });
}
