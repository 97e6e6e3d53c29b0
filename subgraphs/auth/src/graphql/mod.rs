//! The auth subgraph's resolvers, one file per area; the roots merge them.

mod admin;
mod audit;
mod directory;
mod export;
mod lifecycle;
mod login;
mod mfa;
mod otp;
mod reauthenticate;
mod recovery;
mod register;
mod sessions;
mod tokens;
mod user;
mod verification;

use async_graphql::{Context, MergedObject};
use tessera_kit::{ApiError, client::ClientInfo, identity::require_user};
use uuid::Uuid;

use crate::State;
pub use user::User;

#[derive(MergedObject, Default)]
pub struct Query(
    tokens::TokenQuery,
    sessions::SessionQuery,
    audit::AuditQuery,
    user::UserQuery,
    directory::DirectoryQuery,
    export::ExportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    register::RegisterMutation,
    verification::VerificationMutation,
    reauthenticate::ReauthenticateMutation,
    login::LoginMutation,
    sessions::SessionMutation,
    recovery::RecoveryMutation,
    mfa::MfaMutation,
    otp::OtpMutation,
    admin::AdminMutation,
    lifecycle::LifecycleMutation,
);

fn state<'a>(ctx: &'a Context<'_>) -> &'a State {
    ctx.data_unchecked::<State>()
}

fn client<'a>(ctx: &'a Context<'_>) -> &'a ClientInfo {
    tessera_kit::client::client(ctx)
}

/// The signed-in caller's account id and session id.
fn me(ctx: &Context<'_>) -> Result<(Uuid, Uuid), ApiError> {
    let claims = require_user(ctx)?;
    Ok((claims.sub, claims.sid))
}

/// The caller's own account, unless it is gone.
async fn my_account(state: &State, id: Uuid) -> Result<crate::store::Account, ApiError> {
    crate::store::accounts::by_id(&state.rt.db, id)
        .await?
        .filter(|a| a.deleted_at.is_none())
        .ok_or_else(|| ApiError::not_found("No such account."))
}

use tessera_kit::error::parse_uuid as uuid;

/// An epoch-seconds column as a GraphQL `DateTime`.
fn time(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
