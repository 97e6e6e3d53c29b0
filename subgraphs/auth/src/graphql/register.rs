//! `register`, `verifyEmail` and `resendVerification`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_kit::{
    ApiError, ErrorCode,
    bus::{Event, outbox},
    db::Tx,
    error::is_unique_violation,
};
use uuid::Uuid;

use super::{User, client, me, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    error, rules, secret,
    store::{self, Account},
    tokens,
};

pub const VERIFY_EMAIL: &str = "verify_email";

#[derive(InputObject)]
pub struct RegisterInput {
    /// The sign-in email; a verification code is sent to it.
    pub email: String,
    /// 3–32 characters: lower-case letters, digits, `_`, `.` or `-`.
    pub username: String,
    /// 12 to 128 characters, not easy to guess, without your username or email.
    pub password: String,
}

#[derive(SimpleObject)]
pub struct RegisterPayload {
    pub user: User,
    /// Whether the email must be verified (`verifyEmail`) before signing in.
    pub verification_required: bool,
    /// Tokens for the new account, unless verification is required first.
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The six-digit code from the verification email.
    pub code: String,
}

#[derive(SimpleObject)]
pub struct VerifyEmailPayload {
    pub user: User,
}

#[derive(SimpleObject)]
pub struct ResendVerificationPayload {
    /// True when a new code is on its way.
    pub sent: bool,
}

#[derive(Default)]
pub struct RegisterMutation;

#[Object]
impl RegisterMutation {
    /// Creates an account. Emits `AccountRegistered` with a six-digit email-verification code.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<RegisterPayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let email = rules::normalize_email(&input.email)?;
        let username = rules::normalize_username(&input.username)?;
        let password = rules::new_password(&input.password, "password", &username, &email)?;
        let now = store::now();
        let limit = state.policy().registrations_per_ip_per_hour;
        if store::throttle::hit(&state.rt.db, &format!("register:{}", client.ip_text()), 3600, now).await? > limit {
            return Err(error::rate_limited(3600 - now.rem_euclid(3600), "sign-ups from your network"));
        }
        conflicts(state, &email, &username).await?;
        let admission = state.hasher.admit().map_err(|_| error::busy())?;
        let hash = state.hasher.hash(&admission, password).await.map_err(ApiError::internal)?;
        drop(admission);

        let id = Uuid::now_v7();
        let mut tx = state.rt.db.begin().await?;
        if let Err(e) = store::accounts::insert(&mut tx, id, &email, &username, &hash).await {
            // A parallel registration took the email or username between our check and insert.
            return Err(if is_unique_violation(&e) {
                conflict("email", "email address or username")
            } else {
                e.into()
            });
        }
        let code = new_code(state, &mut tx, id, VERIFY_EMAIL, &email, now).await?;
        let payload = json!({ "userId": id, "username": username, "email": email, "verificationCode": code });
        outbox::enqueue(&mut tx, &Event::new("AccountRegistered", payload)).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::Registered, client, "").await?;
        tokens::remember_device(&mut tx, id, client, now).await?;
        let account = new_account(id, &email, &username, &hash);
        let verification_required = state.policy().require_verified_email;
        let signed_in = if verification_required {
            None
        } else {
            Some(tokens::start_session(state, &mut tx, &account, vec!["customer".into()], client).await?)
        };
        tx.commit().await?;
        state.rt.relay.poke();
        Ok(RegisterPayload {
            user: User::from_account(account),
            verification_required,
            access_token: signed_in.as_ref().map(|t| t.access_token.clone()),
            refresh_token: signed_in.as_ref().map(|t| t.refresh_token.clone()),
            expires_at: signed_in.map(|t| t.expires_at),
        })
    }

    /// Confirms the caller's email address with the code sent to it.
    async fn verify_email(&self, ctx: &Context<'_>, input: VerifyEmailInput) -> Result<VerifyEmailPayload, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        check_code(state, id, VERIFY_EMAIL, &input.code, "code").await?;
        let mut tx = state.rt.db.begin().await?;
        store::accounts::set_email_verified(&mut tx, id).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::EmailVerified, client(ctx), "").await?;
        tx.commit().await?;
        Ok(VerifyEmailPayload { user: User::load(ctx, id).await? })
    }

    /// Sends a new verification code (the old one stops working). Limited per address per hour.
    async fn resend_verification(&self, ctx: &Context<'_>) -> Result<ResendVerificationPayload, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        let account =
            store::accounts::by_id(&state.rt.db, id).await?.ok_or_else(|| ApiError::not_found("No such account."))?;
        if account.email_verified {
            return Ok(ResendVerificationPayload { sent: false });
        }
        let now = store::now();
        spend_destination_budget(state, &account.email, now).await?;
        let mut tx = state.rt.db.begin().await?;
        let code = new_code(state, &mut tx, id, VERIFY_EMAIL, &account.email, now).await?;
        let payload = json!({
            "userId": id, "purpose": "VERIFY_EMAIL", "channel": "EMAIL", "destination": account.email, "code": code,
        });
        outbox::enqueue(&mut tx, &Event::new("OtpRequested", payload)).await?;
        tx.commit().await?;
        state.rt.relay.poke();
        Ok(ResendVerificationPayload { sent: true })
    }
}

fn conflict(field: &str, what: &str) -> ApiError {
    ApiError::new(ErrorCode::Conflict, format!("An account with this {what} already exists. Sign in instead."))
        .with("field", field.to_owned())
}

async fn conflicts(state: &State, email: &str, username: &str) -> Result<(), ApiError> {
    match store::accounts::taken(&state.rt.db, email, username).await? {
        (true, _) => Err(conflict("email", "email address")),
        (_, true) => Err(conflict("username", "username")),
        _ => Ok(()),
    }
}

fn new_account(id: Uuid, email: &str, username: &str, hash: &str) -> Account {
    Account {
        id,
        email: email.to_owned(),
        username: username.to_owned(),
        password_hash: hash.to_owned(),
        email_verified: false,
        admin_locked: false,
        disabled: false,
        phone: None,
        mfa_enabled: false,
        created_at: Utc::now(),
        deleted_at: None,
    }
}

/// Stores a new six-digit code for `purpose` (as an HMAC) and returns it for the event.
pub async fn new_code(
    state: &State,
    tx: &mut Tx,
    account: Uuid,
    purpose: &str,
    destination: &str,
    now: i64,
) -> Result<String, ApiError> {
    let code = secret::six_digits();
    let hash = state.code_key.code_hash(&format!("{purpose}:{account}"), &code);
    let expires = now + state.policy().code_seconds;
    store::codes::insert_code(tx, account, purpose, destination, &hash, now, expires).await?;
    Ok(code)
}

/// Checks and spends a six-digit code: at most `code_attempts` guesses, then it is dead.
pub async fn check_code(
    state: &State,
    account: Uuid,
    purpose: &str,
    code: &str,
    field: &str,
) -> Result<String, ApiError> {
    let now = store::now();
    let attempts = state.policy().code_attempts;
    let Some(stored) = store::codes::attempt_code(&state.rt.db, account, purpose, now, attempts).await? else {
        return Err(error::bad_code(field, "code"));
    };
    let hash = state.code_key.code_hash(&format!("{purpose}:{account}"), code.trim());
    if !secret::same(&hash, &stored.code_hash) {
        let left = attempts - stored.attempts;
        return Err(ApiError::bad_input(field, format!("This code is wrong. {left} attempt(s) left."))
            .with("attemptsLeft", left));
    }
    let mut tx = state.rt.db.begin().await?;
    if !store::codes::spend_code(&mut tx, stored.id, now).await? {
        return Err(error::bad_code(field, "code"));
    }
    tx.commit().await?;
    Ok(stored.destination)
}

/// One more code to `destination` this hour, or `RATE_LIMITED`.
pub async fn spend_destination_budget(state: &State, destination: &str, now: i64) -> Result<(), ApiError> {
    let sent = store::throttle::hit(&state.rt.db, &format!("codes:{destination}"), 3600, now).await?;
    if sent > state.policy().codes_per_destination_per_hour {
        return Err(error::rate_limited(3600 - now.rem_euclid(3600), "codes sent to this address"));
    }
    Ok(())
}
