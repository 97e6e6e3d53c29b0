//! `login` and `verifyMfa`. The password and second-factor checks, with their budgets, are the
//! credential services' (`crate::credentials`); this file decides what a sign-in hands out.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::ApiError;

use super::{User, client, state};
use crate::{
    audit::{self, SecurityEventKind},
    credentials::{
        admissible,
        password::{self, Attempt},
        second_factor,
    },
    domain::{self, secret},
    store::{self, Account},
    tokens::{SignIn, Tokens, sign_in},
};

#[derive(InputObject)]
pub struct LoginInput {
    /// The email address or the username.
    pub identifier: String,
    pub password: String,
    /// The `deviceToken` an earlier sign-in on this device returned. A known device keeps its
    /// own failure budget, so someone guessing from elsewhere cannot lock it out.
    pub device_token: Option<String>,
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
    /// Keep it on this device and send it with the next `login` (null: keep the one you sent).
    pub device_token: Option<String>,
}

impl LoginPayload {
    pub fn signed_in(account: Account, t: Tokens, device_token: Option<String>) -> Self {
        Self {
            user: Some(User::from_account(account)),
            access_token: Some(t.access_token),
            refresh_token: Some(t.refresh_token),
            expires_at: Some(t.expires_at),
            device_token,
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

/// Wrong codes one MFA challenge allows (the account's budget is the real bound).
const CHALLENGE_ATTEMPTS: i64 = 5;

#[Object]
impl LoginMutation {
    /// Signs in with an email or username and a password.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<LoginPayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let identifier = domain::identifier(&input.identifier);
        if identifier.is_empty() || identifier.len() > 254 {
            return Err(ApiError::bad_input("identifier", "Enter your email address or username."));
        }
        if input.password.len() > 4 * domain::password::PASSWORD_MAX {
            return Err(ApiError::bad_input("password", "A password has at most 128 characters."));
        }
        let device = input.device_token.as_deref();
        let attempt = Attempt { identifier: &identifier, password: &input.password, device };
        let checked = password::check(state, client, attempt).await?;
        let account = checked.account;
        admissible(state, &account)?;
        if account.mfa_enabled {
            let challenge = secret::token();
            let expires = store::now() + state.policy().mfa_challenge_seconds;
            store::codes::insert_challenge(&state.rt.db, &secret::token_hash(&challenge), account.id, expires).await?;
            store::throttle::clear_attempts(&state.rt.db, &checked.budget).await?;
            audit::record_alone(&state.rt.db, Some(account.id), SecurityEventKind::MfaChallenged, client, "").await?;
            return Ok(LoginPayload { mfa_required: true, mfa_challenge: Some(challenge), ..LoginPayload::default() });
        }
        let how = SignIn {
            amr: "pwd",
            clear: Some(&checked.budget),
            new_device: !checked.known_device,
            roles: Some(checked.roles),
        };
        let (tokens, device_token) = sign_in(state, &account, client, how).await?;
        Ok(LoginPayload::signed_in(account, tokens, device_token))
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
        let account = store::accounts::by_id(&state.rt.db, id).await?.ok_or_else(expired)?;
        // The account may have been locked, disabled or deleted since the password step.
        admissible(state, &account)?;
        if !second_factor::verify(state, &account, &input.code, client).await? {
            return Err(ApiError::bad_input("code", "This code is wrong. Use the current code from your app."));
        }
        let mut tx = state.rt.db.begin().await?;
        if !store::codes::spend_challenge(&mut tx, &hash, now).await? {
            return Err(expired());
        }
        tx.commit().await?;
        let how = SignIn { amr: "pwd mfa", clear: None, new_device: true, roles: None };
        let (tokens, device_token) = sign_in(state, &account, client, how).await?;
        Ok(LoginPayload::signed_in(account, tokens, device_token))
    }
}
