//! Immediate revocation. Auth emits `SessionRevoked { sessionId }` when a session ends (logout,
//! refresh-token reuse, an admin's action). Every router replica reads every such event from
//! the bus and refuses that session's access tokens at once, not when they expire, and closes
//! its open websockets with 4403.
//!
//! A revoked session id is kept for the access-token lifetime: after that its tokens are
//! expired anyway.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use futures::StreamExt;
use tessera_kit::bus::Bus;
use tokio::sync::broadcast;
use uuid::Uuid;

pub struct Revocations {
    revoked: Mutex<HashMap<Uuid, Instant>>,
    announce: broadcast::Sender<Uuid>,
    keep_for: Duration,
}

impl Revocations {
    pub fn new(keep_for: Duration) -> Arc<Self> {
        Arc::new(Self { revoked: Mutex::new(HashMap::new()), announce: broadcast::channel(1024).0, keep_for })
    }

    pub fn revoke(&self, session: Uuid) {
        let now = Instant::now();
        let mut revoked = self.revoked.lock().expect("revocations lock poisoned");
        revoked.retain(|_, until| *until > now);
        revoked.insert(session, now + self.keep_for);
        drop(revoked);
        let _ = self.announce.send(session);
    }

    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.revoked
            .lock()
            .expect("revocations lock poisoned")
            .get(&session)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Sessions revoked from now on (websocket connections watch for their own).
    pub fn watch(&self) -> broadcast::Receiver<Uuid> {
        self.announce.subscribe()
    }

    /// Whether what a watcher received means `session` is revoked now. A watcher that lagged
    /// missed announcements, so the set itself is asked. (The sender lives as long as `self`,
    /// which every watcher's owner holds, so the channel never closes under one.)
    pub fn concerns(&self, received: Result<Uuid, broadcast::error::RecvError>, session: Uuid) -> bool {
        match received {
            Ok(revoked) => revoked == session,
            Err(_) => self.is_revoked(session),
        }
    }
}

/// Applies `SessionRevoked` events until the router is gone.
pub(crate) fn spawn_consumer(bus: &Bus, revocations: Weak<Revocations>, lookback: Duration) {
    let mut events = bus.tail(lookback);
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            let Some(revocations) = revocations.upgrade() else { return };
            if event.kind != "SessionRevoked" {
                continue;
            }
            match event.payload.get("sessionId").and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok()) {
                Some(session) => {
                    tracing::info!(session = %session, "session revoked: its tokens are refused from now on");
                    revocations.revoke(session);
                }
                None => tracing::warn!(event_id = %event.id, "SessionRevoked without a sessionId"),
            }
        }
    });
}
