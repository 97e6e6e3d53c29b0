//! The router's side of a subscription toward the subgraph that owns the root field: one
//! graphql-transport-ws connection per client subscription, with the caller's verified token in
//! `connection_init`. It sits with the other subgraph clients; the transport-neutral
//! subscription core (`crate::subscription`) drives it.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tessera_kit::sockets::WEBSOCKET_BUFFER;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

use crate::{
    error::RouterError,
    ws::protocol::{self, TRANSPORT_WS, close},
};

/// What the upstream subscription produced.
#[derive(Debug)]
pub enum Upstream {
    /// One event: a GraphQL response (`data`, `errors`).
    Next(Value),
    /// The subgraph refused or ended the operation with errors.
    Error(Vec<Value>),
    Complete,
    /// The connection dropped (subgraph restarting, network): worth reconnecting.
    Lost(String),
}

/// Opens the subscription and returns its events. Dropping the receiver closes the upstream
/// connection promptly (the task watches for it), so a client that leaves frees the subgraph
/// side too. A message larger than `limit` bytes (`router.limits.max_response_bytes`, as for
/// an HTTP answer) drops the connection.
pub fn subscribe(
    url: url::Url,
    token: Option<String>,
    query: String,
    variables: Value,
    limit: usize,
) -> mpsc::Receiver<Upstream> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let result = run(&url, token, &query, variables, limit, &tx).await;
        if let Err(reason) = result {
            let _ = tx.send(Upstream::Lost(reason)).await;
        }
    });
    rx
}

async fn run(
    url: &url::Url,
    token: Option<String>,
    query: &str,
    variables: Value,
    limit: usize,
    tx: &mpsc::Sender<Upstream>,
) -> Result<(), String> {
    let mut request = url.as_str().into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(TRANSPORT_WS));
    // Not tungstenite's 128 KiB each way: one such socket per feed, so per subscriber when
    // every subscriber is someone else (see the constant).
    let config = WebSocketConfig::default()
        .read_buffer_size(WEBSOCKET_BUFFER)
        .write_buffer_size(WEBSOCKET_BUFFER)
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    // Boxed: an async fn's state is as large as its largest await, and connecting (TCP, TLS,
    // the handshake) is the largest by far; inline, the task would keep that room for the whole
    // life of the subscription.
    let connect = Box::pin(tokio_tungstenite::connect_async_with_config(request, Some(config), true));
    let (mut ws, _) = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| "connecting timed out".to_owned())?
        .map_err(|e| format!("cannot connect: {e}"))?;
    let init = match token {
        Some(t) => json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {t}") } }),
        None => json!({ "type": "connection_init", "payload": {} }),
    };
    ws.send(Message::text(init.to_string())).await.map_err(|e| e.to_string())?;
    let mut subscribed = false;
    loop {
        let msg = tokio::select! {
            () = tx.closed() => {
                // The client left: tell the subgraph, then hang up.
                let _ = ws.send(Message::text(protocol::complete("1").to_string())).await;
                let _ = ws.close(None).await;
                return Ok(());
            }
            msg = ws.next() => msg,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                let code = frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(1000);
                if code == close::FORBIDDEN || code == close::UNAUTHORIZED {
                    let _ = tx.send(Upstream::Error(vec![RouterError::SubgraphRefusedCredentials.graphql()])).await;
                    return Ok(());
                }
                return Err(format!("closed by the subgraph ({code})"));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection ended".into()),
        };
        let Ok(msg) = serde_json::from_str::<Value>(&text) else { continue };
        match msg.get("type").and_then(Value::as_str) {
            Some("connection_ack") if !subscribed => {
                subscribed = true;
                let subscribe =
                    json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
                ws.send(Message::text(subscribe.to_string())).await.map_err(|e| e.to_string())?;
            }
            Some("next") => {
                let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
                let delivered = tx.send(Upstream::Next(payload)).await;
                if delivered.is_err() {
                    return Ok(());
                }
            }
            Some("error") => {
                let errors = msg.get("payload").and_then(Value::as_array).cloned().unwrap_or_default();
                let _ = tx.send(Upstream::Error(errors)).await;
                return Ok(());
            }
            Some("complete") => {
                let _ = tx.send(Upstream::Complete).await;
                return Ok(());
            }
            Some("ping") => {
                ws.send(Message::text(protocol::pong(None).to_string())).await.map_err(|e| e.to_string())?;
            }
            _ => {}
        }
    }
}
