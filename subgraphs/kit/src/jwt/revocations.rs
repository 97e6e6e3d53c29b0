//! Immediate revocation, for the router and every subgraph alike: a request that bypasses the
//! router must gain nothing, so one mechanism serves both (the verifier consults it).
//!
//! Auth announces two things on the bus:
//! - `SessionRevoked { sessionId }` when a session ends (logout, refresh-token reuse, a lock, a
//!   deletion): that session's tokens are refused;
//! - `AccessRevoked { userId, issuedBeforeMs }` when a user's rights shrink (a role removed):
//!   the user's tokens issued before that instant are refused, while the session lives on, so
//!   the client refreshes and gets a token with its new roles.
//!
//! Each process reads every such event and applies it at once, not when the tokens expire, and
//! watchers (open websockets) hear of each. An entry is kept for the access-token lifetime:
//! after that, the tokens it concerns are expired anyway.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use futures::StreamExt;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::Claims;
use crate::bus::Bus;

/// One revocation, as watchers hear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Session(Uuid),
    User { user: Uuid, before_ms: i64 },
}

/// What revocation needs to know of a token (small and `Copy`, for watchers to keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRef {
    pub session: Uuid,
    pub user: Uuid,
    /// When it was issued, in milliseconds: the `jti`'s UUIDv7 time, else `iat`.
    pub issued_ms: i64,
}

impl From<&Claims> for TokenRef {
    fn from(c: &Claims) -> Self {
        let issued_ms = c
            .jti
            .get_timestamp()
            .map(|t| {
                let (secs, nanos) = t.to_unix();
                i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000) + i64::from(nanos / 1_000_000)
            })
            .unwrap_or(c.iat.saturating_mul(1000));
        Self { session: c.sid, user: c.sub, issued_ms }
    }
}

impl Revoked {
    fn concerns(self, token: TokenRef) -> bool {
        match self {
            Self::Session(session) => session == token.session,
            Self::User { user, before_ms } => user == token.user && token.issued_ms < before_ms,
        }
    }
}

#[derive(Default)]
struct Entries {
    sessions: HashMap<Uuid, Instant>,
    /// A user's cutoff and until when it is kept.
    users: HashMap<Uuid, (i64, Instant)>,
}

pub struct Revocations {
    entries: Mutex<Entries>,
    announce: broadcast::Sender<Revoked>,
    keep_for: Duration,
}

impl Revocations {
    pub fn new(keep_for: Duration) -> Arc<Self> {
        Arc::new(Self { entries: Mutex::default(), announce: broadcast::channel(1024).0, keep_for })
    }

    pub fn revoke(&self, revoked: Revoked) {
        let now = Instant::now();
        let until = now + self.keep_for;
        let mut entries = self.entries.lock().expect("revocations lock poisoned");
        entries.sessions.retain(|_, u| *u > now);
        entries.users.retain(|_, (_, u)| *u > now);
        match revoked {
            Revoked::Session(session) => {
                entries.sessions.insert(session, until);
            }
            Revoked::User { user, before_ms } => {
                let cutoff = entries.users.get(&user).map_or(before_ms, |(c, _)| (*c).max(before_ms));
                entries.users.insert(user, (cutoff, until));
            }
        }
        drop(entries);
        let _ = self.announce.send(revoked);
    }

    pub fn is_revoked(&self, token: TokenRef) -> bool {
        let now = Instant::now();
        let entries = self.entries.lock().expect("revocations lock poisoned");
        entries.sessions.get(&token.session).is_some_and(|until| *until > now)
            || entries
                .users
                .get(&token.user)
                .is_some_and(|(before_ms, until)| *until > now && token.issued_ms < *before_ms)
    }

    /// Revocations from now on (websocket connections watch for their own).
    pub fn watch(&self) -> broadcast::Receiver<Revoked> {
        self.announce.subscribe()
    }

    /// Whether what a watcher received means `token` is revoked now. A watcher that lagged
    /// missed announcements, so the set itself is asked. (The sender lives as long as `self`,
    /// which every watcher's owner holds, so the channel never closes under one.)
    pub fn concerns(&self, received: Result<Revoked, broadcast::error::RecvError>, token: TokenRef) -> bool {
        match received {
            Ok(revoked) => revoked.concerns(token),
            Err(_) => self.is_revoked(token),
        }
    }

    /// Applies one bus event, if it is a revocation.
    pub fn apply(&self, event: &crate::bus::Event) {
        let uuid =
            |field: &str| event.payload.get(field).and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok());
        match event.kind.as_str() {
            "SessionRevoked" => match uuid("sessionId") {
                Some(session) => {
                    tracing::info!(session = %session, "session revoked: its tokens are refused from now on");
                    self.revoke(Revoked::Session(session));
                }
                None => tracing::warn!(event_id = %event.id, "SessionRevoked without a sessionId"),
            },
            "AccessRevoked" => match (uuid("userId"), event.payload.get("issuedBeforeMs").and_then(|v| v.as_i64())) {
                (Some(user), Some(before_ms)) => {
                    tracing::info!(user = %user, "a user's earlier tokens are refused from now on");
                    self.revoke(Revoked::User { user, before_ms });
                }
                _ => tracing::warn!(event_id = %event.id, "AccessRevoked without a userId and issuedBeforeMs"),
            },
            _ => {}
        }
    }
}

/// Applies revocation events from the bus until `revocations` is gone. `lookback` replays the
/// recent past, so a process that starts late still refuses what was revoked before it.
pub fn spawn_consumer(bus: &Bus, revocations: Weak<Revocations>, lookback: Duration) {
    let mut events = bus.tail(lookback);
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            let Some(revocations) = revocations.upgrade() else { return };
            revocations.apply(&event);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(session: Uuid, user: Uuid, issued_ms: i64) -> TokenRef {
        TokenRef { session, user, issued_ms }
    }

    #[test]
    fn a_revoked_session_refuses_its_tokens_and_a_user_cutoff_only_the_older_ones() {
        let r = Revocations::new(Duration::from_secs(60));
        let (session, other, user) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        r.revoke(Revoked::Session(session));
        assert!(r.is_revoked(token(session, user, 0)));
        assert!(!r.is_revoked(token(other, user, 0)), "another session of the same user");
        r.revoke(Revoked::User { user, before_ms: 1_000 });
        assert!(r.is_revoked(token(other, user, 999)), "issued before the cutoff");
        assert!(!r.is_revoked(token(other, user, 1_000)), "issued at or after it: the refreshed token");
        r.revoke(Revoked::User { user, before_ms: 500 });
        assert!(r.is_revoked(token(other, user, 999)), "an older cutoff never lowers a later one");
    }

    #[test]
    fn a_watcher_hears_only_what_concerns_its_token() {
        let r = Revocations::new(Duration::from_secs(60));
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        let mine = token(session, user, 10);
        assert!(r.concerns(Ok(Revoked::User { user, before_ms: 11 }), mine));
        assert!(!r.concerns(Ok(Revoked::User { user, before_ms: 10 }), mine));
        assert!(!r.concerns(Ok(Revoked::Session(Uuid::now_v7())), mine));
        assert!(!r.concerns(Err(broadcast::error::RecvError::Lagged(3)), mine), "lagged: asks the set");
    }

    #[test]
    fn a_v7_jti_dates_the_token_to_the_millisecond() {
        let claims = crate::jwt::Claims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            roles: vec![],
            scope: String::new(),
            iat: chrono::Utc::now().timestamp(),
            exp: 0,
            nbf: None,
            jti: Uuid::now_v7(),
            client_id: None,
        };
        let issued = TokenRef::from(&claims).issued_ms;
        assert!((issued - claims.iat * 1000).abs() < 1_000, "{issued} vs {}", claims.iat);
    }
}
