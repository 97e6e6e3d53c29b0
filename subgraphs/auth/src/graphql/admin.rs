//! Admin operations: roles, locking, unlocking and disabling accounts. Every field here is
//! `@requiresScopes(admin)`: the router refuses a customer before the subgraph is called, and
//! the guard refuses again here, for requests that bypass the router.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use tessera_kit::{ApiError, identity::RequireScopes};
use uuid::Uuid;

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
        let (target, role) = (existing(ctx, &input.user_id).await?, role(&input.role)?);
        let mut tx = state(ctx).rt.db.begin().await?;
        if store::accounts::add_role(&mut tx, target, &role).await? {
            audit::record(&mut tx, Some(target), SecurityEventKind::RoleAssigned, client(ctx), by(ctx, &role)).await?;
        }
        tx.commit().await?;
        Ok(AccountPayload { user: User::load(ctx, target).await? })
    }

    /// Takes a role away. It leaves the user's tokens at their next refresh.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn revoke_role(&self, ctx: &Context<'_>, input: RoleInput) -> Result<AccountPayload, ApiError> {
        let (target, role) = (existing(ctx, &input.user_id).await?, role(&input.role)?);
        if role == "admin" && target == me(ctx)?.0 {
            return Err(ApiError::forbidden("Another admin must take your admin role away, so one always remains."));
        }
        let mut tx = state(ctx).rt.db.begin().await?;
        if store::accounts::remove_role(&mut tx, target, &role).await? {
            audit::record(&mut tx, Some(target), SecurityEventKind::RoleRevoked, client(ctx), by(ctx, &role)).await?;
        }
        tx.commit().await?;
        Ok(AccountPayload { user: User::load(ctx, target).await? })
    }

    /// Locks an account until an admin unlocks it, and signs out its sessions.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn lock_account(&self, ctx: &Context<'_>, input: AccountInput) -> Result<AccountPayload, ApiError> {
        flag(ctx, input, Flag::AdminLocked, true, SecurityEventKind::AccountLocked, Some("locked")).await
    }

    /// Lifts an admin lock and any lockout from failed sign-ins.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn unlock_account(&self, ctx: &Context<'_>, input: AccountInput) -> Result<AccountPayload, ApiError> {
        let target = existing(ctx, &input.user_id).await?;
        let payload = flag(ctx, input, Flag::AdminLocked, false, SecurityEventKind::AccountUnlocked, None).await?;
        if let Some(a) = store::accounts::by_id(&state(ctx).rt.db, target).await? {
            store::throttle::clear_attempts(&state(ctx).rt.db, &a.email).await?;
            store::throttle::clear_attempts(&state(ctx).rt.db, &a.username).await?;
        }
        Ok(payload)
    }

    /// Disables an account: sign-in is refused and every session is signed out.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn disable_account(&self, ctx: &Context<'_>, input: AccountInput) -> Result<AccountPayload, ApiError> {
        flag(ctx, input, Flag::Disabled, true, SecurityEventKind::AccountDisabled, Some("disabled")).await
    }
}

/// Sets a flag, records it and, with `revoke`, signs out every session under that reason.
async fn flag(
    ctx: &Context<'_>,
    input: AccountInput,
    flag: Flag,
    on: bool,
    kind: SecurityEventKind,
    revoke: Option<&str>,
) -> Result<AccountPayload, ApiError> {
    let target = existing(ctx, &input.user_id).await?;
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
    Ok(AccountPayload { user: User::load(ctx, target).await? })
}

/// The id of an existing account, or `NOT_FOUND`.
async fn existing(ctx: &Context<'_>, id: &ID) -> Result<Uuid, ApiError> {
    let id = uuid("userId", id)?;
    match store::accounts::by_id(&state(ctx).rt.db, id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::not_found("No account has this id.").with("field", "userId")),
    }
}

fn role(raw: &str) -> Result<String, ApiError> {
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
