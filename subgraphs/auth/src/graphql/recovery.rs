//! `requestPasswordReset`, `resetPassword` and `changePassword`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    client::ClientInfo,
    db::Tx,
};

use super::{client, me, my_account, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    credentials::{password, step_up},
    domain::{Email, NewPassword, Username, secret},
    error,
    store::{self, Account},
    tokens,
};

#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    pub email: String,
}

#[derive(SimpleObject)]
pub struct RequestPasswordResetPayload {
    /// Always true, whether or not an account has this email: the answer reveals nothing.
    pub accepted: bool,
}

#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token from the reset email.
    pub token: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(SimpleObject)]
pub struct PasswordPayload {
    /// How many sessions were signed out.
    pub sessions_revoked: i32,
}

#[derive(Default)]
pub struct RecoveryMutation;

#[Object]
impl RecoveryMutation {
    /// Sends a reset link if an account has this email. The answer, and how long it takes, are
    /// the same either way: the work happens after the answer.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        input: RequestPasswordResetInput,
    ) -> Result<RequestPasswordResetPayload, ApiError> {
        let state = state(ctx).clone();
        let client = client(ctx).clone();
        let email = Email::parse(&input.email)?;
        let now = store::now();
        let per_ip = store::throttle::hit(&state.rt.db, &format!("reset-ip:{}", client.network()), 3600, now).await?;
        if per_ip > state.policy().resets_per_ip_per_hour {
            return Err(error::rate_limited(3600 - now.rem_euclid(3600), "reset requests from your network"));
        }
        tokio::spawn(async move {
            if let Err(e) = send_reset(&state, &client, &email, now).await {
                tracing::warn!(error = ?e.message, "a password reset request failed");
            }
        });
        Ok(RequestPasswordResetPayload { accepted: true })
    }

    /// Sets a new password with a reset token. Signs out every session.
    async fn reset_password(&self, ctx: &Context<'_>, input: ResetPasswordInput) -> Result<PasswordPayload, ApiError> {
        let state = state(ctx);
        let hash = secret::token_hash(input.token.trim());
        let now = store::now();
        let account = match store::codes::peek_reset(&state.rt.db, &hash, now).await? {
            Some(id) => store::accounts::by_id(&state.rt.db, id).await?,
            None => None,
        };
        let account = account.ok_or_else(|| error::bad_code("token", "reset link"))?;
        let new_hash = hashed(state, &input.new_password, &account).await?;
        let mut tx = state.rt.db.begin().await?;
        if store::codes::spend_reset(&mut tx, &hash, now).await?.is_none() {
            return Err(error::bad_code("token", "reset link"));
        }
        let revoked = replace_password(&mut tx, &account, &new_hash, None, "password_reset", client(ctx)).await?;
        audit::record(&mut tx, Some(account.id), SecurityEventKind::PasswordReset, client(ctx), "").await?;
        tx.commit().await?;
        // The reset is the way out of a sign-in lock (not of a second-factor lock: whoever
        // can read the mailbox does not have the authenticator).
        store::throttle::clear_account(&state.rt.db, &account, false).await?;
        state.rt.relay.poke();
        Ok(PasswordPayload { sessions_revoked: i32::try_from(revoked).unwrap_or(i32::MAX) })
    }

    /// Changes the caller's password. Signs out the other sessions; this one stays. Needs a
    /// recent proof (step-up) as well as the current password.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> Result<PasswordPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = my_account(state, id).await?;
        step_up::require(state, &account, sid).await?;
        password::confirm(state, client(ctx), &account, &input.current_password)
            .await
            .map_err(|e| if e.code == tessera_kit::ErrorCode::BadUserInput { wrong_current() } else { e })?;
        let new_hash = hashed(state, &input.new_password, &account).await?;
        let mut tx = state.rt.db.begin().await?;
        let revoked =
            replace_password(&mut tx, &account, &new_hash, Some(sid), "password_changed", client(ctx)).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::PasswordChanged, client(ctx), "").await?;
        tx.commit().await?;
        state.rt.relay.poke();
        Ok(PasswordPayload { sessions_revoked: i32::try_from(revoked).unwrap_or(i32::MAX) })
    }
}

fn wrong_current() -> ApiError {
    ApiError::bad_input("currentPassword", "The current password is not right.")
}

/// Checks a new password against the rules and hashes it.
async fn hashed(state: &State, new_password: &str, account: &Account) -> Result<String, ApiError> {
    // The stored username and email were valid when stored.
    let (username, email) = (Username::parse(&account.username)?, Email::parse(&account.email)?);
    let password = NewPassword::parse(new_password, "newPassword", &username, &email)?.into_inner();
    let admission = state.hasher.admit().map_err(|_| error::busy())?;
    state.hasher.hash(admission, password).await.map_err(ApiError::internal)
}

/// Stores the new hash, signs out sessions (but `keep`), spends every other reset link, forgets
/// the known devices (their budgets were earned with the old password), and tells the user.
async fn replace_password(
    tx: &mut Tx,
    account: &Account,
    hash: &str,
    keep: Option<uuid::Uuid>,
    reason: &str,
    client: &ClientInfo,
) -> Result<usize, ApiError> {
    store::accounts::set_password(tx, account.id, hash).await?;
    store::codes::spend_all_resets(tx, account.id, store::now()).await?;
    store::devices::forget_all(tx, account.id).await?;
    let revoked = tokens::revoke_all(tx, account.id, keep, reason, client).await?;
    let payload = json!({ "userId": account.id, "email": account.email, "reason": reason });
    outbox::enqueue(tx, &Event::new("PasswordChanged", payload)).await?;
    Ok(revoked)
}

/// The part of a reset request that depends on whether the account exists.
async fn send_reset(state: &State, client: &ClientInfo, email: &str, now: i64) -> Result<(), ApiError> {
    let Some(account) = store::accounts::by_identifier(&state.rt.db, email).await? else { return Ok(()) };
    let per_account = store::throttle::hit(&state.rt.db, &format!("reset:{}", account.id), 3600, now).await?;
    if per_account > state.policy().resets_per_account_per_hour || account.disabled {
        return Ok(());
    }
    let token = secret::token();
    let mut tx = state.rt.db.begin().await?;
    store::codes::insert_reset(&mut tx, &secret::token_hash(&token), account.id, now + state.policy().reset_seconds)
        .await?;
    let payload = json!({ "userId": account.id, "email": account.email });
    let event = Event::new("PasswordResetRequested", payload).with_secret(&state.rt.bus_seal, "token", &token);
    outbox::enqueue(&mut tx, &event).await?;
    audit::record(&mut tx, Some(account.id), SecurityEventKind::PasswordResetRequested, client, "").await?;
    tx.commit().await?;
    state.rt.relay.poke();
    Ok(())
}
