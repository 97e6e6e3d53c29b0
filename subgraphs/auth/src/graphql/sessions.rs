//! `refreshToken`, `logout`, `logoutAll`, `revokeSession` and `mySessions`. Every revocation
//! emits `SessionRevoked`, so the router refuses the session's access tokens at once.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::{ApiError, identity::Authenticated};

use super::{client, me, state, time, uuid};
use crate::{store, tokens};

#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The refresh token from the last sign-in or refresh. It is spent by this call.
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct RevokeSessionInput {
    /// One of `mySessions`.
    pub session_id: ID,
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// How many sessions were signed out.
    pub revoked: i32,
}

/// One signed-in device.
#[derive(SimpleObject)]
pub struct Session {
    pub id: ID,
    /// The browser or app, from its user agent.
    pub device: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Whether this is the session of the token making this request.
    pub current: bool,
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Exchanges a refresh token for a new access token and a new refresh token.
    async fn refresh_token(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> Result<tokens::Tokens, ApiError> {
        if input.refresh_token.len() > 512 {
            return Err(ApiError::unauthenticated("This refresh token is not valid. Sign in again."));
        }
        tokens::refresh(state(ctx), input.refresh_token.trim(), client(ctx)).await
    }

    /// Signs out this session.
    #[graphql(guard = "Authenticated")]
    async fn logout(&self, ctx: &Context<'_>) -> Result<LogoutPayload, ApiError> {
        let (id, sid) = me(ctx)?;
        let mut tx = state(ctx).rt.db.begin().await?;
        tokens::revoke(&mut tx, id, &[sid], "logout", client(ctx)).await?;
        commit(ctx, tx, 1).await
    }

    /// Signs out every session of the caller, this one included.
    #[graphql(guard = "Authenticated")]
    async fn logout_all(&self, ctx: &Context<'_>) -> Result<LogoutPayload, ApiError> {
        let (id, _) = me(ctx)?;
        let mut tx = state(ctx).rt.db.begin().await?;
        let revoked = tokens::revoke_all(&mut tx, id, None, "logout_all", client(ctx)).await?;
        commit(ctx, tx, revoked).await
    }

    /// Signs out one of the caller's sessions (a lost phone, say).
    #[graphql(guard = "Authenticated")]
    async fn revoke_session(&self, ctx: &Context<'_>, input: RevokeSessionInput) -> Result<LogoutPayload, ApiError> {
        let (id, _) = me(ctx)?;
        let target = uuid("sessionId", &input.session_id)?;
        let session = store::sessions::get(&state(ctx).rt.db, target).await?;
        // Someone else's session is "not found", not "forbidden": ids reveal nothing.
        if session.is_none_or(|s| s.account_id != id) {
            return Err(ApiError::not_found("No such session among yours.").with("field", "sessionId"));
        }
        let mut tx = state(ctx).rt.db.begin().await?;
        tokens::revoke(&mut tx, id, &[target], "revoked", client(ctx)).await?;
        commit(ctx, tx, 1).await
    }
}

/// Commits a revocation and wakes the relay, so `SessionRevoked` leaves at once.
async fn commit(ctx: &Context<'_>, tx: tessera_kit::db::Tx, revoked: usize) -> Result<LogoutPayload, ApiError> {
    tx.commit().await?;
    state(ctx).rt.relay.poke();
    Ok(LogoutPayload { revoked: i32::try_from(revoked).unwrap_or(i32::MAX) })
}

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The caller's signed-in devices, newest first.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>, ApiError> {
        let (id, sid) = me(ctx)?;
        let now = store::now();
        let idle = state(ctx).policy().session_idle_seconds;
        let sessions = store::sessions::active(&state(ctx).rt.db, id, now).await?;
        Ok(sessions
            .into_iter()
            .filter(|s| s.last_used_at + idle > now)
            .map(|s| Session {
                id: ID(s.id.to_string()),
                device: s.user_agent,
                ip: s.ip,
                created_at: time(s.created_at),
                last_used_at: time(s.last_used_at),
                current: s.id == sid,
            })
            .collect())
    }
}
