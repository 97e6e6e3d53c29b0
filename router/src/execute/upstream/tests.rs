//! The multiplexing, against a graphql-transport-ws server written here: it acknowledges every
//! `connection_init`, answers each `subscribe` with one `next` naming the connection it came on,
//! records every message, and can cut all its connections at once.

use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::{
    Message,
    handshake::server::{ErrorResponse, Request, Response},
    http::HeaderValue,
};

use super::{Subscription, Upstream, Upstreams};

#[derive(Default)]
struct Seen {
    /// Each connection's `connection_init` payload, in order of arrival.
    inits: Vec<Value>,
    /// (connection number, message) for every message after `connection_init`.
    messages: Vec<(usize, Value)>,
    /// Connections that have ended.
    ended: usize,
}

struct Server {
    url: url::Url,
    seen: Arc<Mutex<Seen>>,
    cut: Arc<Notify>,
}

async fn server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = url::Url::parse(&format!("ws://{}/graphql", listener.local_addr().expect("bound"))).expect("a URL");
    let (seen, cut) = (Arc::new(Mutex::new(Seen::default())), Arc::new(Notify::new()));
    let (seen_by_server, cut_by_test) = (seen.clone(), cut.clone());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.expect("accepts");
            let (seen, cut) = (seen_by_server.clone(), cut_by_test.clone());
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_hdr_async(tcp, agree).await.expect("a websocket");
                let mut number = None;
                loop {
                    let msg = tokio::select! {
                        () = cut.notified() => break,
                        msg = ws.next() => msg,
                    };
                    let Some(Ok(Message::Text(text))) = msg else { break };
                    let msg: Value = serde_json::from_str(&text).expect("JSON");
                    let Some(n) = number else {
                        number = Some({
                            let mut seen = seen.lock().expect("lock");
                            seen.inits.push(msg["payload"].clone());
                            seen.inits.len()
                        });
                        ws.send(Message::text(json!({ "type": "connection_ack" }).to_string())).await.expect("acks");
                        continue;
                    };
                    seen.lock().expect("lock").messages.push((n, msg.clone()));
                    if msg["type"] == "subscribe" {
                        let next =
                            json!({ "id": msg["id"], "type": "next", "payload": { "data": { "connection": n } } });
                        ws.send(Message::text(next.to_string())).await.expect("sends");
                    }
                }
                seen.lock().expect("lock").ended += 1;
            });
        }
    });
    Server { url, seen, cut }
}

/// Agrees to graphql-transport-ws, as a subgraph does.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
fn agree(_: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let protocol = HeaderValue::from_static(crate::ws::protocol::TRANSPORT_WS);
    response.headers_mut().insert("Sec-WebSocket-Protocol", protocol);
    Ok(response)
}

fn upstreams() -> Upstreams {
    Upstreams::new(1 << 20, prometheus::IntGauge::new("connections", "open").expect("a gauge"))
}

/// The connection number in a subscription's next event.
async fn connection_of(subscription: &mut Subscription) -> u64 {
    match subscription.recv().await {
        Some(Upstream::Next(payload)) => payload["data"]["connection"].as_u64().expect("a number"),
        other => panic!("expected an event, got {other:?}"),
    }
}

fn subscribe(upstreams: &Upstreams, server: &Server, token: Option<&str>, query: &str) -> Subscription {
    upstreams.subscribe(&server.url, token.map(Arc::from), query.to_owned(), json!({}))
}

#[tokio::test]
async fn one_callers_subscriptions_share_a_connection_and_another_callers_never_do() {
    let (server, upstreams) = (server().await, upstreams());
    let mut first = subscribe(&upstreams, &server, Some("ada"), "subscription { a }");
    let mut second = subscribe(&upstreams, &server, Some("ada"), "subscription { b }");
    let mut other = subscribe(&upstreams, &server, Some("bob"), "subscription { a }");
    let mut anonymous = subscribe(&upstreams, &server, None, "subscription { a }");
    let (a, b) = (connection_of(&mut first).await, connection_of(&mut second).await);
    assert_eq!(a, b, "ada's two subscriptions ride one connection");
    let (c, d) = (connection_of(&mut other).await, connection_of(&mut anonymous).await);
    assert!(c != a && d != a && c != d, "bob's and the anonymous one are their own: {a} {c} {d}");
    assert_eq!(upstreams.connections.get(), 3);
    let seen = server.seen.lock().expect("lock");
    let tokens: Vec<&Value> = seen.inits.iter().map(|p| &p["Authorization"]).collect();
    assert_eq!(tokens.iter().filter(|t| **t == "Bearer ada").count(), 1, "{tokens:?}");
    assert_eq!(tokens.iter().filter(|t| **t == "Bearer bob").count(), 1, "{tokens:?}");
    assert_eq!(tokens.iter().filter(|t| t.is_null()).count(), 1, "{tokens:?}");
    // Operation ids are distinct on the shared connection.
    let ids: Vec<&Value> = seen.messages.iter().filter(|(n, _)| *n as u64 == a).map(|(_, m)| &m["id"]).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

/// Waits (up to 5 s) until `check` holds for what the server has seen.
async fn until(server: &Server, what: &str, check: impl Fn(&Seen) -> bool) {
    for _ in 0..500 {
        if check(&server.seen.lock().expect("lock")) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what}");
}

#[tokio::test]
async fn a_subscription_that_ends_completes_on_the_subgraph_and_the_last_one_closes_the_connection() {
    let (server, upstreams) = (server().await, upstreams());
    let mut first = subscribe(&upstreams, &server, Some("ada"), "subscription { a }");
    let mut second = subscribe(&upstreams, &server, Some("ada"), "subscription { b }");
    connection_of(&mut first).await;
    connection_of(&mut second).await;
    drop(first);
    until(&server, "the first is completed upstream", |s| s.messages.iter().any(|(_, m)| m["type"] == "complete"))
        .await;
    assert_eq!(server.seen.lock().expect("lock").ended, 0, "the second still rides the connection");
    assert_eq!(upstreams.connections.get(), 1);
    drop(second);
    until(&server, "the connection closes with its last subscription", |s| s.ended == 1).await;
    for _ in 0..500 {
        if upstreams.connections.get() == 0 && upstreams.open.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(upstreams.connections.get(), 0, "counted down");
    assert!(upstreams.open.lock().expect("lock").is_empty(), "and out of the registry");
    // A later subscription opens a new connection.
    let mut again = subscribe(&upstreams, &server, Some("ada"), "subscription { a }");
    assert_eq!(connection_of(&mut again).await, 2);
}

#[tokio::test]
async fn a_lost_connection_tells_each_of_its_subscriptions_which_come_back_on_one_new_connection() {
    let (server, upstreams) = (server().await, upstreams());
    let mut first = subscribe(&upstreams, &server, Some("ada"), "subscription { a }");
    let mut second = subscribe(&upstreams, &server, Some("ada"), "subscription { b }");
    assert_eq!(connection_of(&mut first).await, 1);
    assert_eq!(connection_of(&mut second).await, 1);
    server.cut.notify_waiters();
    for subscription in [&mut first, &mut second] {
        assert!(matches!(subscription.recv().await, Some(Upstream::Lost(_)) | None), "each hears of the loss");
    }
    drop((first, second));
    // As their feeds do: subscribe again.
    let mut first = subscribe(&upstreams, &server, Some("ada"), "subscription { a }");
    let mut second = subscribe(&upstreams, &server, Some("ada"), "subscription { b }");
    assert_eq!(connection_of(&mut first).await, 2);
    assert_eq!(connection_of(&mut second).await, 2, "both on the one new connection");
    assert_eq!(upstreams.connections.get(), 1);
}

#[tokio::test]
async fn many_subscriptions_coming_and_going_at_once_leave_no_connection_and_lose_none() {
    let (server, upstreams) = (server().await, Arc::new(upstreams()));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (upstreams, url) = (upstreams.clone(), server.url.clone());
        tasks.push(tokio::spawn(async move {
            // Four callers; each subscription hears its event, then leaves.
            let token = format!("caller-{}", i % 4);
            let mut subscription =
                upstreams.subscribe(&url, Some(Arc::from(token)), format!("subscription {{ f{i} }}"), json!({}));
            match subscription.recv().await {
                Some(Upstream::Next(_)) => {}
                other => panic!("subscription {i} got {other:?}"),
            }
        }));
    }
    for task in tasks {
        task.await.expect("every subscription heard its event");
    }
    for _ in 0..500 {
        if upstreams.connections.get() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(upstreams.connections.get(), 0, "every connection closed with its last subscription");
    assert!(upstreams.open.lock().expect("lock").is_empty());
}
