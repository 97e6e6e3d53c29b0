//! Client websockets on `/graphql`: graphql-transport-ws and the legacy graphql-ws. This module
//! only frames: admission is the request context's (`context`), execution the pipeline's and the
//! subscription core's (`subscription`).
//!
//! One task per connection owns the socket. Each operation runs the subscription core in a task
//! of its own and frames its events straight into the connection's outbox; when the connection
//! ends every operation task is aborted, which leaves its feed (and the feed's upstream
//! subscription, with its last client), so a closed client leaves nothing behind.
//!
//! Credentials: the token in `connection_init`, else the upgrade request's `Authorization`
//! header. Either is verified before it counts; a token that does not verify closes the socket
//! with 4403, and nothing unverified is ever forwarded. Each `subscribe` is admitted again like
//! an HTTP request (revocation, expiry, per-IP and per-user budgets).
//!
//! Protocol rules (graphql-transport-ws close codes): a malformed message closes 4400, a
//! `subscribe` before the ack 4401, a refused, revoked or expired token 4403, no
//! `connection_init` in time 4408, a reused id 4409, a message over the body limit 4413, a
//! second `connection_init` (or a spent budget at `connection_init`) 4429. A client's Close frame
//! is answered with the same code.

pub(crate) mod protocol;

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use axum::{
    extract::{
        ConnectInfo, FromRequestParts, Request,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{HeaderMap, HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use tessera_kit::{jwt::TokenRef, sockets::WEBSOCKET_BUFFER};
use tokio::{sync::mpsc, task::AbortHandle, time::Instant};

use self::protocol::{Incoming, Protocol, close};
use crate::{
    RouterState,
    context::{self, RequestContext},
    error::RouterError,
    pipeline::{GraphQLRequest, authorize_operation},
    subscription::{self, expiry_instant},
};

/// What operation tasks hand back to their connection.
enum Out {
    /// A message's JSON text.
    Message(String),
    /// The operation ended on its own; its id may be reused.
    Done(String),
}

pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.get(axum::http::header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// What the upgrade request brought: its headers (the pass-through ones are forwarded), the
/// client's address, and a token candidate from `Authorization`, not yet verified.
struct Handshake {
    headers: HeaderMap,
    peer: Option<IpAddr>,
    token: Option<String>,
}

/// The upgrade request's headers a connection still needs (the passed-through ones and the
/// client's name), copied. A parsed header value shares the HTTP connection's read buffer, so
/// keeping the request's headers kept that whole buffer (8 KiB or more) for every socket's life.
fn kept_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in context::PASSED_THROUGH.iter().chain(&crate::metrics::CLIENT_HEADERS) {
        for value in headers.get_all(*name) {
            if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                kept.append(HeaderName::from_static(name), value);
            }
        }
    }
    kept
}

pub(crate) async fn upgrade(state: Arc<RouterState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let handshake = Handshake {
        peer: parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip()),
        token: context::header_token(&parts.headers).map(str::to_owned),
        headers: kept_headers(&parts.headers),
    };
    let limit = state.ws.max_message_bytes;
    match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws
            .protocols([protocol::TRANSPORT_WS, protocol::LEGACY_WS])
            // The same bound as an HTTP body: a message is one request.
            .max_message_size(limit)
            .max_frame_size(limit)
            // Not tungstenite's 128 KiB each way per socket (see the constant).
            .read_buffer_size(WEBSOCKET_BUFFER)
            .write_buffer_size(WEBSOCKET_BUFFER)
            .on_upgrade(move |socket| Connection::run(state, socket, handshake))
            .into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

struct Connection {
    state: Arc<RouterState>,
    protocol: Protocol,
    acked: bool,
    init_seen: bool,
    handshake: Handshake,
    /// Set at `connection_init`: the verified caller (or anonymous) for every operation.
    context: Option<RequestContext>,
    operations: HashMap<String, AbortHandle>,
    out: mpsc::Sender<Out>,
}

/// Why the router closes a connection.
struct Closing(u16, &'static str);

/// How long a connection closed for an oversized message stays open before it is dropped.
const TOO_LARGE_LINGER: Duration = Duration::from_secs(1);

impl Connection {
    async fn run(state: Arc<RouterState>, mut socket: WebSocket, handshake: Handshake) {
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
            handshake,
            context: None,
            operations: HashMap::new(),
            out,
        };
        conn.state.metrics.ws_connections.inc();
        let closing = loop {
            let caller = conn.context.as_ref().and_then(|c| c.caller.as_ref());
            let expiry = caller.map(|c| expiry_instant(c.exp));
            let token = caller.map(TokenRef::from);
            tokio::select! {
                // In this order: an expired token or a revoked session closes the socket with
                // 4403 before anything queued is sent. The subscription core sees the same
                // revocation and queues its own error; unordered, that error sometimes went
                // out first and the client never heard why the socket closed.
                biased;
                () = tokio::time::sleep_until(init_deadline), if !conn.acked => {
                    break Some(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout"));
                }
                () = tokio::time::sleep_until(expiry.unwrap_or(init_deadline)), if expiry.is_some() => {
                    break Some(Closing(close::FORBIDDEN, "Forbidden: the access token expired"));
                }
                revocation = revoked.recv(), if token.is_some() => {
                    if token.is_some_and(|t| conn.state.revocations.concerns(revocation, t)) {
                        break Some(Closing(close::FORBIDDEN, "Forbidden: the session was revoked"));
                    }
                }
                Some(out) = inbox.recv() => match out {
                    Out::Message(msg) => {
                        if socket.send(Message::text(msg)).await.is_err() {
                            break None;
                        }
                    }
                    Out::Done(id) => {
                        conn.operations.remove(&id);
                    }
                },
                msg = socket.recv() => match msg {
                    // Boxed for the same reason: the connection's task lives as long as it does.
                    Some(Ok(Message::Text(text))) => match Box::pin(conn.handle(&text)).await {
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
                    Some(Ok(Message::Close(_))) => {
                        // The websocket library has queued its answer, which echoes the client's
                        // code; flushing sends it, so the client sees a clean close, not 1006.
                        let _ = futures::SinkExt::flush(&mut socket).await;
                        break None;
                    }
                    Some(Err(e)) if is_too_large(&e) => break Some(Closing(close::TOO_LARGE, "Message too large")),
                    None | Some(Err(_)) => break None,
                    Some(Ok(_)) => {}
                },
            }
        };
        for handle in conn.operations.values() {
            handle.abort();
        }
        conn.state.metrics.ws_connections.dec();
        if let Some(Closing(code, reason)) = closing {
            let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
            if code == close::TOO_LARGE {
                // The client is still sending the refused message, and a socket closed with
                // bytes unread answers with a TCP reset, which makes the client's kernel drop
                // our Close frame unread: it would see 1006, not 4413. The websocket library
                // cannot read past an oversized frame, so give the client a moment to read
                // the Close frame first; the task holds nothing else while it waits.
                tokio::time::sleep(TOO_LARGE_LINGER).await;
            }
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
                let from_payload = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|k| payload.get(*k)?.as_str())
                    .and_then(context::bearer)
                    .map(str::to_owned);
                let token = from_payload.or_else(|| self.handshake.token.clone());
                let handshake = &self.handshake;
                let context = context::authenticate(
                    &self.state,
                    token.as_deref(),
                    &handshake.headers,
                    handshake.peer,
                    // The upgrade request paid the per-IP budget already.
                    context::Charge::User,
                )
                .await
                .map_err(|e| match e {
                    RouterError::RateLimited { .. } => Closing(close::TOO_MANY_INITS, "Too many requests"),
                    RouterError::SessionRevoked => Closing(close::FORBIDDEN, "Forbidden: the session was revoked"),
                    _ => Closing(close::FORBIDDEN, "Forbidden"),
                })?;
                self.context = Some(context);
                self.acked = true;
                Ok(vec![protocol::ack()])
            }
            Incoming::Subscribe { id, query, variables, operation_name } => {
                let Some(context) = self.context.clone().filter(|_| self.acked) else {
                    return Err(Closing(close::UNAUTHORIZED, "Unauthorized"));
                };
                if self.operations.contains_key(&id) {
                    return Err(Closing(close::DUPLICATE_ID, "Subscriber for this id already exists"));
                }
                let max = self.state.ws.max_subscriptions;
                if self.operations.len() >= max {
                    let error = RouterError::SubscriptionLimit { max };
                    return Ok(vec![protocol::error(self.protocol, &id, vec![error.graphql()])]);
                }
                // Each operation is admitted like an HTTP request: same budgets, same checks.
                match context.readmit(&self.state).await {
                    Ok(()) => {}
                    Err(RouterError::SessionRevoked) => {
                        return Err(Closing(close::FORBIDDEN, "Forbidden: the session was revoked"));
                    }
                    Err(RouterError::TokenExpired) => {
                        return Err(Closing(close::FORBIDDEN, "Forbidden: the access token expired"));
                    }
                    Err(refused) => return Ok(vec![protocol::error(self.protocol, &id, vec![refused.graphql()])]),
                }
                // Each operation counts under the client the upgrade request named, as an HTTP
                // request does under its own headers (Apollo Router does the same).
                self.state.metrics.client(&self.handshake.headers);
                let request = GraphQLRequest { query, operation_name, variables };
                let task = tokio::spawn(operation(
                    self.state.clone(),
                    context,
                    request,
                    (self.protocol, id.clone()),
                    self.out.clone(),
                ));
                self.operations.insert(id, task.abort_handle());
                Ok(vec![])
            }
            Incoming::Complete { id } => {
                if let Some(handle) = self.operations.remove(&id) {
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

/// One operation of a connection: authorized, run by the subscription core, each event framed.
async fn operation(
    state: Arc<RouterState>,
    context: RequestContext,
    request: GraphQLRequest,
    (protocol, id): (Protocol, String),
    out: mpsc::Sender<Out>,
) {
    // Boxed: this task lives as long as the subscription, and an inline await would keep
    // authorization's (large) state in it all that time.
    match Box::pin(authorize_operation(&state, &context, &request)).await {
        Err(refusal) => {
            let _ = out.send(Out::Message(protocol::error(protocol, &id, refusal.errors()).to_string())).await;
        }
        Ok(op) => {
            // Run here, framing each event straight into the connection's outbox: no task and
            // channel per subscription in between.
            let sink = Framed { out: &out, protocol, id: &id };
            subscription::run(&state, &context, op, &sink).await;
        }
    }
    let _ = out.send(Out::Done(id)).await;
}

/// A websocket operation's events, framed for its protocol and id.
struct Framed<'a> {
    out: &'a mpsc::Sender<Out>,
    protocol: Protocol,
    id: &'a str,
}

impl subscription::Sink for Framed<'_> {
    async fn send(&self, event: subscription::Event) -> bool {
        self.out.send(Out::Message(frame(self.protocol, self.id, event))).await.is_ok()
    }

    async fn closed(&self) {
        self.out.closed().await;
    }
}

/// The message for one event of operation `id`, as JSON text.
fn frame(protocol: Protocol, id: &str, event: subscription::Event) -> String {
    match event {
        subscription::Event::Next(payload) => protocol::next(protocol, id, &payload),
        subscription::Event::Error(errors) => protocol::error(protocol, id, errors).to_string(),
        subscription::Event::Complete => protocol::complete(id).to_string(),
    }
}

/// Whether a read failed because the message is over `max_message_size`.
fn is_too_large(error: &axum::Error) -> bool {
    use std::error::Error as _;
    error
        .source()
        .and_then(|e| e.downcast_ref::<tokio_tungstenite::tungstenite::Error>())
        .is_some_and(|e| matches!(e, tokio_tungstenite::tungstenite::Error::Capacity(_)))
}

/// Websocket settings.
#[derive(Debug, Clone, Copy)]
pub struct WsSettings {
    pub init_timeout: Duration,
    pub max_subscriptions: usize,
    /// The largest message accepted: the HTTP body limit.
    pub max_message_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_keeps_only_the_headers_it_forwards_or_counts_and_never_the_credentials() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer secret"),
            ("cookie", "session=secret"),
            ("user-agent", "Firefox/140"),
            ("x-request-id", "r-1"),
            ("apollographql-client-name", "web"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        let kept = kept_headers(&headers);
        let mut names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["apollographql-client-name", "user-agent", "x-request-id"]);
        assert_eq!(kept["user-agent"], "Firefox/140");
    }
}
