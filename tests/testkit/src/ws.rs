//! A small GraphQL websocket client for tests (graphql-transport-ws or the legacy graphql-ws).

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a socket to `url` (`ws://…/graphql`) speaking `protocol`.
pub async fn open(url: &str, protocol: &'static str) -> Socket {
    let mut req = url.into_client_request().expect("a websocket request");
    req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("connects");
    ws
}

/// Sends one JSON message.
pub async fn send(ws: &mut Socket, msg: Value) {
    ws.send(Message::text(msg.to_string())).await.expect("sends");
}

/// Opens a graphql-transport-ws socket and sends `connection_init` with `payload`.
pub async fn connect(url: &str, payload: Value) -> Socket {
    let mut ws = open(url, "graphql-transport-ws").await;
    send(&mut ws, json!({ "type": "connection_init", "payload": payload })).await;
    ws
}

/// The next text message as JSON; a close frame comes back as `{"closed": code}`. None when
/// nothing arrives within 5 s.
pub async fn next_json(ws: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.ok()?? {
            Ok(Message::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(Message::Close(frame)) => return Some(json!({ "closed": frame.map(|f| u16::from(f.code)) })),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// Connects with `Authorization: Bearer <token>`, expects the ack, and subscribes with id "1".
pub async fn subscribe(url: &str, token: Option<&str>, query: &str) -> Socket {
    let init = token.map_or_else(|| json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
    let mut ws = connect(url, init).await;
    let ack = next_json(&mut ws).await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })).await;
    ws
}
