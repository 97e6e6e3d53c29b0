//! Client websockets on `/graphql`: graphql-transport-ws and the legacy graphql-ws.
//!
//! One task per connection owns the socket. Each subscription runs in a task of its own and
//! reports through a channel; when the connection ends every subscription task is aborted, which
//! drops its upstream connection, so a closed client leaves nothing behind.
//!
//! Protocol rules (graphql-transport-ws close codes): a malformed message closes 4400, a
//! `subscribe` before the ack 4401, a refused or expired token 4403, no `connection_init` in
//! time 4408, a reused id 4409, a second `connection_init` 4429.

pub(crate) mod protocol;
pub(crate) mod subscription;
mod upstream;

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    extract::{
        FromRequestParts, Request,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use serde_json::Value;
use tessera_kit::jwt::Claims;
use tokio::{sync::mpsc, task::AbortHandle, time::Instant};

use self::protocol::{Incoming, Protocol, close};
use crate::{RouterState, execute::Forward};

/// What subscription tasks hand back to their connection.
pub(crate) enum Out {
    Message(Value),
    /// The subscription ended on its own; its id may be reused.
    Done(String),
}

pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.get(axum::http::header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

pub(crate) async fn upgrade(state: Arc<RouterState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let forward = crate::http::forwarded(&parts.headers);
    match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws
            .protocols([protocol::TRANSPORT_WS, protocol::LEGACY_WS])
            .on_upgrade(move |socket| Connection::run(state, socket, forward))
            .into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

struct Connection {
    state: Arc<RouterState>,
    protocol: Protocol,
    acked: bool,
    init_seen: bool,
    caller: Option<Claims>,
    token: Option<String>,
    forward: Forward,
    subscriptions: HashMap<String, AbortHandle>,
    out: mpsc::Sender<Out>,
}

/// Why the router closes a connection.
struct Closing(u16, &'static str);

impl Connection {
    async fn run(state: Arc<RouterState>, mut socket: WebSocket, forward: Forward) {
        let protocol = socket
            .protocol()
            .and_then(|p| p.to_str().ok())
            .and_then(Protocol::from_name)
            .unwrap_or(Protocol::TransportWs);
        let (out, mut inbox) = mpsc::channel(64);
        let init_deadline = Instant::now() + state.ws.init_timeout;
        let mut revoked = state.revocations.watch();
        let mut conn = Connection {
            state,
            protocol,
            acked: false,
            init_seen: false,
            caller: None,
            token: None,
            forward,
            subscriptions: HashMap::new(),
            out,
        };
        conn.state.metrics.ws_connections.inc();
        let closing = loop {
            let expiry = conn.caller.as_ref().map(|c| expiry_instant(c.exp));
            tokio::select! {
                () = tokio::time::sleep_until(init_deadline), if !conn.acked => {
                    break Some(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout"));
                }
                () = tokio::time::sleep_until(expiry.unwrap_or(init_deadline)), if expiry.is_some() => {
                    break Some(Closing(close::FORBIDDEN, "Forbidden: the access token expired"));
                }
                Ok(session) = revoked.recv(), if conn.caller.is_some() => {
                    if conn.caller.as_ref().is_some_and(|c| c.sid == session) {
                        break Some(Closing(close::FORBIDDEN, "Forbidden: the session was revoked"));
                    }
                }
                Some(out) = inbox.recv() => match out {
                    Out::Message(msg) => {
                        if socket.send(Message::text(msg.to_string())).await.is_err() {
                            break None;
                        }
                    }
                    Out::Done(id) => {
                        conn.subscriptions.remove(&id);
                    }
                },
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Text(text))) => match conn.handle(&text).await {
                        Ok(replies) => {
                            for reply in replies {
                                if socket.send(Message::text(reply.to_string())).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Err(closing) => break Some(closing),
                    },
                    Some(Ok(Message::Binary(_))) => break Some(Closing(close::BAD_MESSAGE, "Binary messages are not supported")),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => {}
                },
            }
        };
        for handle in conn.subscriptions.values() {
            handle.abort();
        }
        conn.state.metrics.ws_connections.dec();
        if let Some(Closing(code, reason)) = closing {
            let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
        }
    }

    /// Handles one client message; returns direct replies, or why the connection must close.
    async fn handle(&mut self, text: &str) -> Result<Vec<Value>, Closing> {
        let Some(msg) = protocol::parse(self.protocol, text) else {
            return Err(Closing(close::BAD_MESSAGE, "Invalid message received"));
        };
        match msg {
            Incoming::Init(payload) => {
                if self.init_seen {
                    return Err(Closing(close::TOO_MANY_INITS, "Too many initialisation requests"));
                }
                self.init_seen = true;
                let token = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|k| payload.get(*k)?.as_str())
                    .map(tessera_kit::server::bearer)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned);
                if let Some(token) = &token {
                    let claims =
                        self.state.verifier.verify(token).await.map_err(|_| Closing(close::FORBIDDEN, "Forbidden"))?;
                    if self.state.revocations.is_revoked(claims.sid) {
                        return Err(Closing(close::FORBIDDEN, "Forbidden: the session was revoked"));
                    }
                    self.caller = Some(claims);
                    let value = axum::http::HeaderValue::from_str(&format!("Bearer {token}"))
                        .map_err(|_| Closing(close::FORBIDDEN, "Forbidden"))?;
                    self.forward.0.retain(|(name, _)| name != axum::http::header::AUTHORIZATION);
                    self.forward.0.push((axum::http::header::AUTHORIZATION, value));
                }
                self.token = token;
                self.acked = true;
                Ok(vec![protocol::ack()])
            }
            Incoming::Subscribe { id, query, variables, operation_name } => {
                if !self.acked {
                    return Err(Closing(close::UNAUTHORIZED, "Unauthorized"));
                }
                if self.subscriptions.contains_key(&id) {
                    return Err(Closing(close::DUPLICATE_ID, "Subscriber for this id already exists"));
                }
                if self.subscriptions.len() >= self.state.ws.max_subscriptions {
                    let error = crate::supergraph::coded(
                        &format!(
                            "This connection already has {} subscriptions, the most allowed.",
                            self.state.ws.max_subscriptions
                        ),
                        "SUBSCRIPTION_LIMIT",
                    );
                    return Ok(vec![protocol::error(self.protocol, &id, vec![error])]);
                }
                let request = subscription::Request {
                    id: id.clone(),
                    query,
                    variables,
                    operation_name,
                    protocol: self.protocol,
                    caller: self.caller.clone(),
                    token: self.token.clone(),
                    forward: self.forward.clone(),
                };
                let task = tokio::spawn(counted(
                    self.state.clone(),
                    subscription::run(self.state.clone(), request, self.out.clone()),
                ));
                self.subscriptions.insert(id, task.abort_handle());
                Ok(vec![])
            }
            Incoming::Complete { id } => {
                if let Some(handle) = self.subscriptions.remove(&id) {
                    handle.abort();
                }
                Ok(vec![])
            }
            Incoming::Ping(payload) => Ok(vec![protocol::pong(payload)]),
            Incoming::Pong => Ok(vec![]),
            Incoming::Terminate => Err(Closing(1000, "Normal closure")),
        }
    }
}

/// Runs a subscription task, counted in the metrics whether it ends or is aborted.
async fn counted(state: Arc<RouterState>, task: impl Future<Output = ()>) {
    struct Guard(Arc<RouterState>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.metrics.ws_subscriptions.dec();
        }
    }
    state.metrics.ws_subscriptions.inc();
    let _guard = Guard(state);
    task.await;
}

fn expiry_instant(exp: i64) -> Instant {
    let left = exp - chrono::Utc::now().timestamp();
    Instant::now() + Duration::from_secs(left.max(0) as u64)
}

/// Websocket settings.
#[derive(Debug, Clone, Copy)]
pub struct WsSettings {
    pub init_timeout: Duration,
    pub max_subscriptions: usize,
}
