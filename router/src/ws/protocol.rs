//! The two websocket subprotocols clients speak: `graphql-transport-ws` (the graphql-ws
//! library, current) and the legacy `graphql-ws` (subscriptions-transport-ws).

use serde_json::{Value, json};

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY_WS: &str = "graphql-ws";

/// Close codes of graphql-transport-ws.
pub mod close {
    pub const BAD_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    /// A message larger than `body_limit_bytes` (as HTTP's 413).
    pub const TOO_LARGE: u16 = 4413;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    TransportWs,
    Legacy,
}

impl Protocol {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            TRANSPORT_WS => Some(Self::TransportWs),
            LEGACY_WS => Some(Self::Legacy),
            _ => None,
        }
    }
}

/// What a client can send.
#[derive(Debug)]
pub enum Incoming {
    Init(Value),
    Subscribe { id: String, query: String, variables: serde_json::Map<String, Value>, operation_name: Option<String> },
    Complete { id: String },
    Ping(Option<Value>),
    Pong,
    Terminate,
}

/// Parses a client message; `None` for anything malformed (the connection then closes 4400).
pub fn parse(protocol: Protocol, text: &str) -> Option<Incoming> {
    let msg: Value = serde_json::from_str(text).ok()?;
    let kind = msg.get("type")?.as_str()?;
    let id = || msg.get("id").and_then(Value::as_str).map(str::to_owned);
    match (protocol, kind) {
        (_, "connection_init") => Some(Incoming::Init(msg.get("payload").cloned().unwrap_or(Value::Null))),
        (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start") => {
            let payload = msg.get("payload")?;
            Some(Incoming::Subscribe {
                id: id()?,
                query: payload.get("query")?.as_str()?.to_owned(),
                variables: payload.get("variables").and_then(Value::as_object).cloned().unwrap_or_default(),
                operation_name: payload.get("operationName").and_then(Value::as_str).map(str::to_owned),
            })
        }
        (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => Some(Incoming::Complete { id: id()? }),
        (Protocol::TransportWs, "ping") => Some(Incoming::Ping(msg.get("payload").cloned())),
        (Protocol::TransportWs, "pong") => Some(Incoming::Pong),
        (Protocol::Legacy, "connection_terminate") => Some(Incoming::Terminate),
        _ => None,
    }
}

pub fn ack() -> Value {
    json!({ "type": "connection_ack" })
}

/// A result message, as JSON text: `payload` is a response's JSON text, put in as it is (one
/// serialization per event, framed for each client by concatenation).
pub fn next(protocol: Protocol, id: &str, payload: &[u8]) -> String {
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::Legacy => "data",
    };
    let id = serde_json::to_string(id).expect("a string always serializes");
    let payload = std::str::from_utf8(payload).expect("a response is UTF-8 JSON");
    format!(r#"{{"type":"{kind}","id":{id},"payload":{payload}}}"#)
}

pub fn error(protocol: Protocol, id: &str, errors: Vec<Value>) -> Value {
    match protocol {
        Protocol::TransportWs => json!({ "type": "error", "id": id, "payload": errors }),
        // The legacy protocol carries one error object; errors of a result go in `data`.
        Protocol::Legacy => json!({ "type": "data", "id": id, "payload": { "errors": errors } }),
    }
}

pub fn complete(id: &str) -> Value {
    json!({ "type": "complete", "id": id })
}

pub fn pong(payload: Option<Value>) -> Value {
    match payload {
        Some(p) => json!({ "type": "pong", "payload": p }),
        None => json!({ "type": "pong" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_frame_carries_the_payload_as_it_is_and_an_escaped_id_in_either_protocol() {
        let payload = br#"{"data":{"n":1}}"#;
        let frame: Value = serde_json::from_str(&next(Protocol::TransportWs, "a\"b", payload)).expect("JSON");
        assert_eq!(frame, json!({ "type": "next", "id": "a\"b", "payload": { "data": { "n": 1 } } }));
        let legacy: Value = serde_json::from_str(&next(Protocol::Legacy, "1", payload)).expect("JSON");
        assert_eq!(legacy, json!({ "type": "data", "id": "1", "payload": { "data": { "n": 1 } } }));
    }
}
