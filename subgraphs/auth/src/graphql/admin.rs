//! Admin operations: roles, locking, unlocking and disabling accounts. Every field here is
//! `@requiresScopes(admin)`: the router refuses a customer before the subgraph is called, and
//! the guard refuses again here, for requests that bypass the router.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    identity::RequireScopes,
};

use super::{User, client, me, state, uuid};
use crate::{
    audit::{self, SecurityEventKind},
    store::{self, accounts::Flag},
    tokens,
};

#[derive(InputObject)]
pub struct RoleInput {
    pub user_id: ID,
    /// A role name: `customer`, `admin`, or another of 2–32 lower-case letters, digits, `_`, `-`.
    pub role: String,
}

#[derive(InputObject)]
pub struct AccountInput {
    pub user_id: ID,
    /// Why, for the audit trail.
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct AccountPayload {
    pub user: User,
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Grants a role. It reaches the user's tokens at their next refresh.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn assign_role(&self, ctx: &Context<'_>, input: RoleInput) -> Result<AccountPayload, ApiError> {
        let (target, role) = (existing(ctx, &input.user_id).await?.id, role(&input.role)?);
        let mut tx = state(ctx).rt.db.begin().await?;
        if store::accounts::add_role(&mut tx, target, &role).await? {
            audit::record(&mut tx, Some(target), SecurityEventKind::RoleAssigned, client(ctx), by(ctx, &role)).await?;
        }
        tx.commit().await?;
        Ok(AccountPayload { user: User::load(ctx, target).await? })
    }

    /// Takes a role away. The user's earlier access tokens are refused at once, by the router and
    /// every subgraph (`AccessRevoked`); the session stays, and a refresh brings the new roles.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn revoke_role(&self, ctx: &Context<'_>, input: RoleInput) -> Result<AccountPayload, ApiError> {
        let (target, role) = (existing(ctx, &input.user_id).await?.id, role(&input.role)?);
        if role == "admin" && target == me(ctx)?.0 {
            return Err(ApiError::forbidden("Another admin must take your admin role away, so one always remains."));
        }
        let mut tx = state(ctx).rt.db.begin().await?;
        if store::accounts::remove_role(&mut tx, target, &role).await? {
            audit::record(&mut tx, Some(target), SecurityEventKind::RoleRevoked, client(ctx), by(ctx, &role)).await?;
            let cutoff = chrono::Utc::now().timestamp_millis();
            let payload = serde_json::json!({ "userId": target, "issuedBeforeMs": cutoff, "reason": "role_revoked" });
            outbox::enqueue(&mut tx, &Event::new("AccessRevoked", payload)).await?;
        }
        tx.commit().await?;
        state(ctx).rt.relay.poke();
        Ok(AccountPayload { user: User::load(ctx, target).await? })
    }

    /// Locks an account until an admin unlocks it, and signs out its sessions.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn lock_account(&self, ctx: &Context<'_>, input: AccountInput) -> Result<AccountPayload, ApiError> {
        Ok(flag(ctx, input, Flag::AdminLocked, true, SecurityEventKind::AccountLocked, Some("locked")).await?.0)
    }

    /// Lifts an admin lock and any lockout from failed sign-ins.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn unlock_account(&self, ctx: &Context<'_>, input: AccountInput) -> Result<AccountPayload, ApiError> {
        let (payload, account) =
            flag(ctx, input, Flag::AdminLocked, false, SecurityEventKind::AccountUnlocked, None).await?;
        store::throttle::clear_account(&state(ctx).rt.db, &account, true).await?;
        Ok(payload)
    }

    /// Disables an account: sign-in is refused and every session is signed out.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn disable_account(&self, ctx: &Context<'_>, input: AccountInput) -> Result<AccountPayload, ApiError> {
        Ok(flag(ctx, input, Flag::Disabled, true, SecurityEventKind::AccountDisabled, Some("disabled")).await?.0)
    }
}

/// Sets a flag, records it and, with `revoke`, signs out every session under that reason.
/// Returns the payload and the account as it was before.
async fn flag(
    ctx: &Context<'_>,
    input: AccountInput,
    flag: Flag,
    on: bool,
    kind: SecurityEventKind,
    revoke: Option<&str>,
) -> Result<(AccountPayload, store::Account), ApiError> {
    let account = existing(ctx, &input.user_id).await?;
    let target = account.id;
    if revoke.is_some() && target == me(ctx)?.0 {
        return Err(ApiError::forbidden("You cannot lock or disable your own account."));
    }
    let state = state(ctx);
    let mut tx = state.rt.db.begin().await?;
    store::accounts::set_flag(&mut tx, target, flag, on).await?;
    let reason = input.reason.unwrap_or_default().chars().take(200).collect::<String>();
    audit::record(&mut tx, Some(target), kind, client(ctx), by(ctx, &reason)).await?;
    if let Some(why) = revoke {
        tokens::revoke_all(&mut tx, target, None, why, client(ctx)).await?;
    }
    tx.commit().await?;
    state.rt.relay.poke();
    Ok((AccountPayload { user: User::load(ctx, target).await? }, account))
}

/// An existing account, or `NOT_FOUND`.
async fn existing(ctx: &Context<'_>, id: &ID) -> Result<store::Account, ApiError> {
    let id = uuid("userId", id)?;
    store::accounts::by_id(&state(ctx).rt.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("No account has this id.").with("field", "userId"))
}

pub(super) fn role(raw: &str) -> Result<String, ApiError> {
    let role = raw.trim().to_lowercase();
    let valid = (2..=32).contains(&role.len())
        && role.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(role)
    } else {
        Err(ApiError::bad_input("role", "A role is 2 to 32 lower-case letters, digits, '_' or '-'."))
    }
}

/// The audit detail: what, and which admin did it.
fn by(ctx: &Context<'_>, what: &str) -> String {
    let admin = me(ctx).map(|(id, _)| id.to_string()).unwrap_or_default();
    format!("{what} (by admin {admin})")
}
