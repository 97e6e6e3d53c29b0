//! Sessions and the tokens they hand out: a short-lived access JWT, and an opaque refresh token
//! that rotates on every use. A rotated token presented again after the grace window means it
//! leaked (or the client is broken): the whole session is revoked and the router told at once.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    client::ClientInfo,
    db::Tx,
    jwt::Claims,
};
use uuid::Uuid;

use crate::{
    State,
    audit::{self, SecurityEventKind},
    domain::secret,
    store::{self, Account, sessions::Session},
};

/// What a successful sign-in or refresh hands the client.
#[derive(Debug, Clone, SimpleObject)]
pub struct Tokens {
    /// The access token (JWT): send it as `Authorization: Bearer …`.
    pub access_token: String,
    /// Exchange it for new tokens with `refreshToken` before the session ends. Single use.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    #[graphql(skip)]
    pub session_id: Uuid,
}

/// Signs an access token for a session, with the account's current roles as scopes.
pub fn access_token(state: &State, account: Uuid, session: Uuid, roles: Vec<String>, now: i64) -> (String, i64) {
    let config = &state.rt.config;
    let exp = now + config.identity.access_token_seconds;
    let claims = Claims {
        iss: config.jwt.issuer.clone(),
        aud: config.jwt.audience.clone(),
        sub: account,
        sid: session,
        scope: roles.join(" "),
        roles,
        iat: now,
        exp,
        nbf: None,
        jti: Uuid::now_v7(),
        client_id: None,
    };
    (state.keys.sign(&claims), exp)
}

fn tokens(state: &State, account: Uuid, session: Uuid, roles: Vec<String>, refresh: String, now: i64) -> Tokens {
    let (access, exp) = access_token(state, account, session, roles, now);
    Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_default(),
        session_id: session,
    }
}

/// Starts a session for a signed-in account, inside the caller's transaction, and announces a
/// device or address the account has not signed in from before. `amr` says how the user proved
/// who they are; the sign-in is the session's first proof (see `credentials::step_up`).
/// The flag is true when an event was queued: poke the relay after the commit.
pub async fn start_session(
    state: &State,
    tx: &mut Tx,
    account: &Account,
    roles: Vec<String>,
    client: &ClientInfo,
    amr: &str,
) -> Result<(Tokens, bool), ApiError> {
    let now = store::now();
    let session = Session {
        id: Uuid::now_v7(),
        account_id: account.id,
        created_at: now,
        last_used_at: now,
        expires_at: now + state.rt.config.identity.session_absolute_seconds,
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: client.user_agent.clone(),
        revoked_at: None,
        auth_time: now,
        amr: amr.to_owned(),
    };
    store::sessions::insert(tx, &session).await?;
    let refresh = secret::token();
    store::sessions::insert_refresh(tx, &secret::token_hash(&refresh), session.id, now).await?;
    let new_device = remember_device(tx, account.id, client, now).await?;
    if new_device {
        let payload = json!({
            "userId": account.id, "email": account.email, "username": account.username,
            "ip": client.ip.map(|ip| ip.to_string()), "userAgent": client.user_agent,
        });
        outbox::enqueue(tx, &Event::new("LoginFromNewDevice", payload)).await?;
    }
    Ok((tokens(state, account.id, session.id, roles, refresh, now), new_device))
}

/// Records the client's address and user agent as known; true if either was new.
pub async fn remember_device(tx: &mut Tx, account: Uuid, client: &ClientInfo, now: i64) -> Result<bool, sqlx::Error> {
    let ua = client.user_agent.as_deref().unwrap_or("");
    let ua = format!("ua:{:x}", Sha256::digest(ua.as_bytes()));
    let ip = format!("ip:{}", client.ip_text());
    store::accounts::remember_devices(tx, account, [&ua, &ip], now).await
}

fn refused(message: &str) -> ApiError {
    ApiError::unauthenticated(message)
}

/// Exchanges a refresh token for new tokens. Of N parallel calls with one token exactly one
/// wins; the rest are refused, and after the grace window a reuse revokes the session.
pub async fn refresh(state: &State, token: &str, client: &ClientInfo) -> Result<Tokens, ApiError> {
    let db = &state.rt.db;
    let policy = &state.rt.config.identity;
    let hash = secret::token_hash(token);
    let now = store::now();
    // Everything is read before the transaction: a transaction must never wait for a second
    // pool connection (on SQLite, parallel writers queue holding connections, and the pool
    // would run dry). The conditional rotation below is what decides, atomically.
    let Some((session_id, None)) = store::sessions::refresh_token(db, &hash).await? else {
        return Err(reused_or_unknown(state, &hash, client, now).await?);
    };
    let session = store::sessions::get(db, session_id).await?.ok_or_else(|| refused("Unknown session."))?;
    if session.revoked_at.is_some() {
        return Err(refused("This session was signed out. Sign in again."));
    }
    if session.expires_at <= now || session.last_used_at + policy.session_idle_seconds <= now {
        return Err(refused("This session has expired. Sign in again."));
    }
    let account = store::accounts::by_id(db, session.account_id).await?.ok_or_else(|| refused("Unknown account."))?;
    if account.disabled || account.admin_locked {
        return Err(ApiError::new(tessera_kit::ErrorCode::AccountLocked, "This account is locked. Contact support."));
    }
    // Roles are read now, so a role change reaches the token at the next refresh.
    let roles = store::accounts::roles(db, account.id).await?;
    let next = secret::token();
    let mut tx = db.begin().await?;
    if store::sessions::rotate(&mut tx, &hash, now).await?.is_none() {
        // A parallel refresh won the race.
        tx.rollback().await?;
        return Err(reused_or_unknown(state, &hash, client, now).await?);
    }
    store::sessions::insert_refresh(&mut tx, &secret::token_hash(&next), session.id, now).await?;
    store::sessions::touch(&mut tx, session.id, now).await?;
    tx.commit().await?;
    Ok(tokens(state, account.id, session.id, roles, next, now))
}

/// Why a refresh token that could not be rotated was refused, revoking its session on reuse.
async fn reused_or_unknown(state: &State, hash: &[u8], client: &ClientInfo, now: i64) -> Result<ApiError, ApiError> {
    let Some((session_id, Some(rotated_at))) = store::sessions::refresh_token(&state.rt.db, hash).await? else {
        return Ok(refused("This refresh token is not valid. Sign in again."));
    };
    if now - rotated_at <= state.rt.config.identity.refresh_reuse_grace_seconds {
        return Ok(refused("This refresh token was just used; use the newest one you received."));
    }
    let Some(session) = store::sessions::get(&state.rt.db, session_id).await? else {
        return Ok(refused("This refresh token is not valid. Sign in again."));
    };
    let mut tx = state.rt.db.begin().await?;
    audit::record(&mut tx, Some(session.account_id), SecurityEventKind::RefreshTokenReused, client, "").await?;
    revoke(&mut tx, session.account_id, &[session.id], "reuse", client).await?;
    tx.commit().await?;
    state.rt.relay.poke();
    tracing::warn!(session = %session.id, "a rotated refresh token was reused; the session is revoked");
    Ok(refused("This refresh token was already used, so the session has been signed out for safety. Sign in again."))
}

/// Revokes sessions in the caller's transaction: marks them, records each, and announces each
/// with `SessionRevoked` so the router refuses their access tokens at once. Call
/// `rt.relay.poke()` after committing.
pub async fn revoke(
    tx: &mut Tx,
    account: Uuid,
    sessions: &[Uuid],
    reason: &str,
    client: &ClientInfo,
) -> Result<(), sqlx::Error> {
    let now = store::now();
    for &id in sessions {
        if store::sessions::revoke(tx, id, reason, now).await? {
            announce(tx, account, id, reason, client).await?;
        }
    }
    Ok(())
}

/// Revokes every session of an account but `keep`.
pub async fn revoke_all(
    tx: &mut Tx,
    account: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    client: &ClientInfo,
) -> Result<usize, sqlx::Error> {
    let ids = store::sessions::revoke_all(tx, account, keep, reason, store::now()).await?;
    for &id in &ids {
        announce(tx, account, id, reason, client).await?;
    }
    Ok(ids.len())
}

async fn announce(
    tx: &mut Tx,
    account: Uuid,
    session: Uuid,
    reason: &str,
    client: &ClientInfo,
) -> Result<(), sqlx::Error> {
    let payload = json!({ "sessionId": session, "userId": account, "reason": reason });
    outbox::enqueue(tx, &Event::new("SessionRevoked", payload)).await?;
    audit::record(tx, Some(account), SecurityEventKind::SessionRevoked, client, reason).await
}

/// How a sign-in was proved, and what it settles.
pub struct SignIn<'a> {
    /// The methods, `amr`-style, recorded on the session as its first proof.
    pub amr: &'a str,
    /// The failure count to clear in the sign-in's own transaction.
    pub clear: Option<&'a str>,
    /// Whether to issue a device token (the client did not present a valid one).
    pub new_device: bool,
    /// The account's roles when the caller read them with the account; `None` reads them here.
    pub roles: Option<Vec<String>>,
}

/// Starts a session and records the sign-in; returns the tokens and a new device token.
pub async fn sign_in(
    state: &State,
    account: &Account,
    client: &ClientInfo,
    how: SignIn<'_>,
) -> Result<(Tokens, Option<String>), ApiError> {
    let roles = match how.roles {
        Some(roles) => roles,
        None => store::accounts::roles(&state.rt.db, account.id).await?,
    };
    let now = store::now();
    let mut tx = state.rt.db.begin().await?;
    if let Some(key) = how.clear {
        store::throttle::clear_attempts_in(&mut tx, key).await?;
    }
    let device = if how.new_device {
        let token = secret::token();
        let until = now + state.policy().device_token_seconds;
        store::devices::insert(&mut tx, &secret::token_hash(&token), account.id, now, until).await?;
        Some(token)
    } else {
        None
    };
    let (tokens, announced) = start_session(state, &mut tx, account, roles, client, how.amr).await?;
    audit::record(&mut tx, Some(account.id), SecurityEventKind::LoginSucceeded, client, how.amr).await?;
    tx.commit().await?;
    if announced {
        state.rt.relay.poke();
    }
    Ok((tokens, device))
}
