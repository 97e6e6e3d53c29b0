//! `verifyEmail` and `resendVerification`. Both work without a session, since an account whose
//! email must be verified cannot sign in before it is: the email and the code are the proof, and
//! a right code signs the user in. Sessionless calls are limited per IP, each code allows a few
//! guesses, and every failure gets one answer, so they reveal nothing about which addresses have
//! accounts.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    identity::require_user,
};

use super::{User, client, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    credentials::{
        admissible,
        codes::{self, VERIFY_EMAIL},
    },
    domain::Email,
    error,
    store::{self, Account},
    tokens::{SignIn, sign_in},
};

#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The six-digit code from the verification email.
    pub code: String,
    /// The address the code was sent to. Needed without a session (right after `register`);
    /// signed in, the caller's own address is meant.
    pub email: Option<String>,
}

#[derive(SimpleObject)]
pub struct VerifyEmailPayload {
    pub user: User,
    /// Without a session, a right code signs the user in: these are the new session's tokens
    /// (null when already signed in, or when the account also needs a second factor).
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct ResendVerificationInput {
    /// The address to send a new code to. Needed without a session.
    pub email: Option<String>,
}

#[derive(SimpleObject)]
pub struct ResendVerificationPayload {
    /// Signed in: true when a new code is on its way. Without a session always true: a code is
    /// sent if an unverified account has this address, and the answer does not say.
    pub sent: bool,
}

#[derive(Default)]
pub struct VerificationMutation;

#[Object]
impl VerificationMutation {
    /// Confirms an email address with the code sent to it; without a session, also signs in.
    async fn verify_email(&self, ctx: &Context<'_>, input: VerifyEmailInput) -> Result<VerifyEmailPayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let signed_in = require_user(ctx).ok().map(|c| c.sub);
        let (account, sessionless) = match (signed_in, input.email.as_deref()) {
            (Some(id), None) => (store::accounts::by_id(&state.rt.db, id).await?, false),
            (_, Some(email)) => {
                spend_ip_budget(state, &client.network()).await?;
                let email = Email::parse(email)?;
                (store::accounts::by_identifier(&state.rt.db, &email).await?.filter(|a| a.email == *email), true)
            }
            (None, None) => {
                return Err(ApiError::bad_input("email", "Enter the email address the code was sent to."));
            }
        };
        let refused = || error::bad_code("code", "code");
        let account = account.filter(|a| a.deleted_at.is_none()).ok_or_else(refused)?;
        if sessionless {
            // One answer for an unknown address, a verified one and a wrong code.
            if account.email_verified {
                return Err(refused());
            }
            match codes::attempt(state, account.id, VERIFY_EMAIL, &input.code).await? {
                codes::Checked::Right(_) => {}
                _ => return Err(refused()),
            }
        } else {
            codes::check(state, account.id, VERIFY_EMAIL, &input.code, "code").await?;
        }
        let mut tx = state.rt.db.begin().await?;
        store::accounts::set_email_verified(&mut tx, account.id).await?;
        audit::record(&mut tx, Some(account.id), SecurityEventKind::EmailVerified, client, "").await?;
        let payload = json!({ "userId": account.id, "username": account.username });
        outbox::enqueue(&mut tx, &Event::new("EmailVerified", payload)).await?;
        tx.commit().await?;
        state.rt.relay.poke();
        let verified = Account { email_verified: true, ..account };
        let tokens = if sessionless && !verified.mfa_enabled && admissible(state, &verified).is_ok() {
            let how = SignIn { amr: "email", clear: None, new_device: false, roles: None };
            Some(sign_in(state, &verified, client, how).await?.0)
        } else {
            None
        };
        Ok(VerifyEmailPayload {
            user: User::from_account(verified),
            access_token: tokens.as_ref().map(|t| t.access_token.clone()),
            refresh_token: tokens.as_ref().map(|t| t.refresh_token.clone()),
            expires_at: tokens.map(|t| t.expires_at),
        })
    }

    /// Sends a new verification code (the old one stops working). Limited per address per hour.
    async fn resend_verification(
        &self,
        ctx: &Context<'_>,
        input: Option<ResendVerificationInput>,
    ) -> Result<ResendVerificationPayload, ApiError> {
        let state = state(ctx);
        let email = input.and_then(|i| i.email);
        let account = match (require_user(ctx).ok().map(|c| c.sub), email.as_deref()) {
            (Some(id), None) => store::accounts::by_id(&state.rt.db, id).await?,
            (_, Some(email)) => {
                spend_ip_budget(state, &client(ctx).network()).await?;
                let email = Email::parse(email)?;
                let found = store::accounts::by_identifier(&state.rt.db, &email).await?.filter(|a| a.email == *email);
                // The answer is the same whatever was found.
                if let Some(account) = found.filter(|a| !a.email_verified && a.deleted_at.is_none()) {
                    let _ = send_code(state, &account).await;
                }
                return Ok(ResendVerificationPayload { sent: true });
            }
            (None, None) => {
                return Err(ApiError::bad_input("email", "Enter the email address to send the code to."));
            }
        };
        let account = account.ok_or_else(|| ApiError::not_found("No such account."))?;
        if account.email_verified {
            return Ok(ResendVerificationPayload { sent: false });
        }
        send_code(state, &account).await?;
        Ok(ResendVerificationPayload { sent: true })
    }
}

/// Sessionless attempts from one address, per hour.
async fn spend_ip_budget(state: &State, ip: &str) -> Result<(), ApiError> {
    let now = store::now();
    let used = store::throttle::hit(&state.rt.db, &format!("verify-ip:{ip}"), 3600, now).await?;
    if used > state.policy().verifications_per_ip_per_hour {
        return Err(error::rate_limited(3600 - now.rem_euclid(3600), "verification attempts from your network"));
    }
    Ok(())
}

async fn send_code(state: &State, account: &Account) -> Result<(), ApiError> {
    let now = store::now();
    codes::spend_destination_budget(state, &account.email, now).await?;
    let mut tx = state.rt.db.begin().await?;
    let code = codes::issue(state, &mut tx, account.id, VERIFY_EMAIL, &account.email, now).await?;
    let payload = json!({
        "userId": account.id, "purpose": "VERIFY_EMAIL", "channel": "EMAIL", "destination": account.email,
    });
    let event = Event::new("OtpRequested", payload).with_secret(&state.rt.bus_seal, "code", &code);
    outbox::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    state.rt.relay.poke();
    Ok(())
}
