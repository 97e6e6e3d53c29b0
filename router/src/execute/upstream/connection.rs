//! One upstream connection: the task that owns a caller's websocket to one subgraph endpoint,
//! opens it, carries its subscriptions by operation id, and leaves the registry when its last
//! subscription ends or the connection does.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tessera_kit::sockets::WEBSOCKET_BUFFER;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

use super::{Command, Key, Registry, Subscribe, Upstream};
use crate::{
    error::RouterError,
    ws::protocol::{self, TRANSPORT_WS, close},
};

/// How long a subgraph has to acknowledge `connection_init`.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Connection {
    pub(super) serial: u64,
    pub(super) key: Key,
    pub(super) url: url::Url,
    /// The caller's token, for `connection_init`.
    pub(super) token: Option<Arc<str>>,
    pub(super) registry: Registry,
    pub(super) inbox: mpsc::UnboundedReceiver<Command>,
    /// The subscriptions it carries, by operation id.
    pub(super) operations: HashMap<u64, mpsc::Sender<Upstream>>,
    pub(super) limit: usize,
    pub(super) gauge: prometheus::IntGauge,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a connection ended.
enum End {
    /// Its last subscription ended.
    Idle,
    /// The subgraph refused the caller's credentials: every subscription fails.
    Refused,
    Lost(String),
}

impl Connection {
    pub(super) async fn run(mut self) {
        self.gauge.inc();
        // Boxed: opening (connecting, the handshake, waiting for the ack) is the larger half of
        // this task's state, and it is needed once; inline, every connection kept room for it.
        let end = match Box::pin(self.open()).await {
            Ok(mut ws) => {
                let end = self.serve(&mut ws).await;
                if matches!(end, End::Idle) {
                    let _ = ws.close(None).await;
                }
                end
            }
            Err(end) => end,
        };
        self.leave();
        // Whatever reached the inbox after the last look hears how it ended too.
        while let Ok(command) = self.inbox.try_recv() {
            if let Command::Subscribe(subscribe) = command {
                self.operations.insert(subscribe.id, subscribe.events);
            }
        }
        for (_, events) in self.operations.drain() {
            // Best effort: a subscription that hears nothing sees its channel close, and
            // reconnects the same way.
            let _ = events.try_send(match &end {
                End::Refused => Upstream::Error(vec![RouterError::SubgraphRefusedCredentials.graphql()]),
                End::Lost(reason) => Upstream::Lost(reason.clone()),
                End::Idle => Upstream::Lost("connection closed".into()),
            });
        }
        self.gauge.dec();
    }

    /// Connects and waits for `connection_ack`.
    async fn open(&mut self) -> Result<Socket, End> {
        let lost = |e: &dyn std::fmt::Display| End::Lost(e.to_string());
        let mut request = self.url.as_str().into_client_request().map_err(|e| lost(&e))?;
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(TRANSPORT_WS));
        // Not tungstenite's 128 KiB each way (see the constant).
        let config = WebSocketConfig::default()
            .read_buffer_size(WEBSOCKET_BUFFER)
            .write_buffer_size(WEBSOCKET_BUFFER)
            .max_message_size(Some(self.limit))
            .max_frame_size(Some(self.limit));
        // Boxed: an async fn's state is as large as its largest await, and connecting (TCP, TLS,
        // the handshake) is the largest by far; inline, the task would keep that room for the
        // whole life of the connection.
        let connect = Box::pin(tokio_tungstenite::connect_async_with_config(request, Some(config), true));
        let (mut ws, _) = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .map_err(|_| End::Lost("connecting timed out".into()))?
            .map_err(|e| End::Lost(format!("cannot connect: {e}")))?;
        let init = match &self.token {
            Some(t) => json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {t}") } }),
            None => json!({ "type": "connection_init", "payload": {} }),
        };
        send(&mut ws, init).await?;
        let acked = tokio::time::timeout(ACK_TIMEOUT, async {
            loop {
                match read(&mut ws).await? {
                    Some(msg) if msg["type"] == "connection_ack" => return Ok(()),
                    Some(msg) if msg["type"] == "ping" => pong(&mut ws).await?,
                    _ => {}
                }
            }
        });
        match acked.await {
            Ok(Ok(())) => Ok(ws),
            Ok(Err(end)) => Err(end),
            Err(_) => Err(End::Lost("the subgraph did not acknowledge connection_init".into())),
        }
    }

    /// Carries subscriptions until the last one ends or the connection does.
    async fn serve(&mut self, ws: &mut Socket) -> End {
        loop {
            if self.operations.is_empty() {
                match self.leave_if_idle() {
                    None => return End::Idle,
                    Some(command) => {
                        if let Err(end) = self.command(ws, command).await {
                            return end;
                        }
                        continue;
                    }
                }
            }
            tokio::select! {
                command = self.inbox.recv() => {
                    let Some(command) = command else { return End::Idle };
                    if let Err(end) = self.command(ws, command).await {
                        return end;
                    }
                }
                msg = read(ws) => {
                    let msg = match msg {
                        Ok(Some(msg)) => msg,
                        Ok(None) => continue,
                        Err(end) => return end,
                    };
                    if let Err(end) = self.message(ws, msg).await {
                        return end;
                    }
                }
            }
        }
    }

    async fn command(&mut self, ws: &mut Socket, command: Command) -> Result<(), End> {
        match command {
            Command::Subscribe(subscribe) => {
                let Subscribe { id, query, variables, events } = *subscribe;
                self.operations.insert(id, events);
                let subscribe = json!({
                    "id": id.to_string(), "type": "subscribe", "payload": { "query": query, "variables": variables }
                });
                send(ws, subscribe).await
            }
            Command::Unsubscribe(id) => match self.operations.remove(&id) {
                Some(_) => send(ws, protocol::complete(&id.to_string())).await,
                None => Ok(()), // the subgraph ended it first
            },
        }
    }

    async fn message(&mut self, ws: &mut Socket, mut msg: Value) -> Result<(), End> {
        let id = msg.get("id").and_then(Value::as_str).and_then(|id| id.parse::<u64>().ok());
        // The event is moved out of the message, not copied: this runs for every event.
        let payload = msg.as_object_mut().and_then(|m| m.remove("payload")).unwrap_or(Value::Null);
        match (msg.get("type").and_then(Value::as_str), id) {
            (Some("next"), Some(id)) => {
                let Some(events) = self.operations.get(&id) else { return Ok(()) };
                let payload = Box::new(payload);
                // Waits for a subscription that is behind: the subgraph's socket holds the rest.
                if events.send(Upstream::Next(payload)).await.is_err() {
                    self.operations.remove(&id);
                    return send(ws, protocol::complete(&id.to_string())).await;
                }
            }
            (Some("error"), Some(id)) => {
                if let Some(events) = self.operations.remove(&id) {
                    let errors = match payload {
                        Value::Array(errors) => errors,
                        _ => Vec::new(),
                    };
                    let _ = events.send(Upstream::Error(errors)).await;
                }
            }
            (Some("complete"), Some(id)) => {
                if let Some(events) = self.operations.remove(&id) {
                    let _ = events.send(Upstream::Complete).await;
                }
            }
            (Some("ping"), _) => pong(ws).await?,
            _ => {}
        }
        Ok(())
    }

    /// With no subscription left: leaves the registry, unless a command is on its way (sent
    /// under the registry's lock, so none can arrive once it has left): that command, then.
    fn leave_if_idle(&mut self) -> Option<Command> {
        let registry = self.registry.clone();
        let mut open = registry.lock().expect("upstream registry lock poisoned");
        if let Ok(command) = self.inbox.try_recv() {
            return Some(command);
        }
        self.remove(&mut open);
        None
    }

    fn leave(&mut self) {
        let registry = self.registry.clone();
        let mut open = registry.lock().expect("upstream registry lock poisoned");
        self.remove(&mut open);
    }

    /// Takes this connection out of the registry (if a newer one has not taken its place) and
    /// closes its inbox.
    fn remove(&mut self, open: &mut HashMap<Key, (u64, mpsc::UnboundedSender<Command>)>) {
        if open.get(&self.key).is_some_and(|(serial, _)| *serial == self.serial) {
            open.remove(&self.key);
        }
        self.inbox.close();
    }
}

/// The next text message as JSON (None for anything else); the connection's end as `End`.
async fn read(ws: &mut Socket) -> Result<Option<Value>, End> {
    match ws.next().await {
        Some(Ok(Message::Text(text))) => Ok(serde_json::from_str(&text).ok()),
        Some(Ok(Message::Close(frame))) => {
            let code = frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(1000);
            if code == close::FORBIDDEN || code == close::UNAUTHORIZED {
                return Err(End::Refused);
            }
            Err(End::Lost(format!("closed by the subgraph ({code})")))
        }
        Some(Ok(_)) => Ok(None),
        Some(Err(e)) => Err(End::Lost(e.to_string())),
        None => Err(End::Lost("connection ended".into())),
    }
}

async fn send(ws: &mut Socket, msg: Value) -> Result<(), End> {
    ws.send(Message::text(msg.to_string())).await.map_err(|e| End::Lost(e.to_string()))
}

async fn pong(ws: &mut Socket) -> Result<(), End> {
    send(ws, protocol::pong(None)).await
}
