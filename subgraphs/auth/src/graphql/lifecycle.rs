//! `deleteMyAccount`: the owner, with their password, ends their account. Auth signs out every
//! session (each `SessionRevoked` makes the router refuse that session's tokens at once), erases
//! its own personal data, and emits `AccountDeleted` so every other subgraph erases theirs.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    client::ClientInfo,
    identity::Authenticated,
};

use super::{client, me, my_account, state};
use crate::{
    audit::{self, SecurityEventKind},
    credentials::{password, second_factor, step_up},
    store, tokens,
};

#[derive(InputObject)]
pub struct DeleteMyAccountInput {
    /// The current password: a stolen access token alone cannot delete an account.
    pub password: String,
    /// With two-factor sign-in on: a code from the authenticator app, or a recovery code.
    pub mfa_code: Option<String>,
}

#[derive(SimpleObject)]
pub struct DeleteMyAccountPayload {
    pub deleted: bool,
    /// How many sessions were signed out.
    pub sessions_revoked: i32,
}

#[derive(Default)]
pub struct LifecycleMutation;

#[Object]
impl LifecycleMutation {
    /// Deletes the caller's account for good: sign-in stops at once, every token is refused, and
    /// every subgraph erases or anonymizes what it holds about the user (orders are kept for
    /// accounting, without the user). Ask for `exportMyData` first to keep a copy.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        input: DeleteMyAccountInput,
    ) -> Result<DeleteMyAccountPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = my_account(state, id).await?;
        step_up::require(state, &account, sid).await?;
        // The lockout counts these guesses like sign-in attempts.
        password::confirm(state, client(ctx), &account, &input.password).await?;
        if account.mfa_enabled {
            let code = input.mfa_code.as_deref().unwrap_or_default();
            if code.is_empty() {
                return Err(ApiError::bad_input(
                    "mfaCode",
                    "This account uses two-factor sign-in: send a code from your authenticator app, or a recovery code.",
                ));
            }
            if !second_factor::verify(state, &account, code, client(ctx)).await? {
                return Err(second_factor::wrong("mfaCode"));
            }
        }
        let mut tx = state.rt.db.begin().await?;
        let revoked = tokens::revoke_all(&mut tx, id, None, "account_deleted", client(ctx)).await?;
        store::erasure::erase(&mut tx, &account, store::now()).await?;
        // The trail keeps that the account was deleted, but not from where: that would be
        // personal data outliving the person's account.
        audit::record(&mut tx, Some(id), SecurityEventKind::AccountDeleted, &ClientInfo::default(), "").await?;
        outbox::forget_published(&mut tx, id).await?;
        outbox::enqueue(&mut tx, &Event::new("AccountDeleted", json!({ "userId": id }))).await?;
        tx.commit().await?;
        state.rt.relay.poke();
        tracing::info!(user_id = %id, sessions = revoked, "account deleted by its owner");
        Ok(DeleteMyAccountPayload { deleted: true, sessions_revoked: i32::try_from(revoked).unwrap_or(i32::MAX) })
    }
}
