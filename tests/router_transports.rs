//! Every transport passes the same admission: a revoked or expired token stops working over
//! websockets (both protocols) and multipart as it does over HTTP, an unverified token is never
//! forwarded, websocket messages pay the same budgets and size limit as HTTP requests, and the
//! framing is what clients expect (multipart parts complete at once, Close frames answered).

mod common;

use std::time::{Duration, Instant};

use common::{account, gql, notification, register};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::config::BucketConfig;
use tessera_testkit::{
    TestStack, eventually, spawn_configured, spawn_stack, test_bus,
    ws::{self, Socket, next_json, send},
};
use tokio_tungstenite::tungstenite::{
    Message,
    client::IntoClientRequest,
    http::HeaderValue,
    protocol::{CloseFrame, frame::coding::CloseCode},
};

const QUERY: &str = "subscription { notificationAdded { title user { id username } } }";

fn router_ws(stack: &TestStack) -> String {
    format!("ws://{}/graphql", stack.router)
}

/// A graphql-transport-ws socket whose upgrade request carries `Authorization: Bearer <token>`.
async fn open_with_header(stack: &TestStack, token: &str) -> Socket {
    let mut req = router_ws(stack).into_client_request().expect("a websocket request");
    req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    req.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).expect("ASCII"));
    tokio_tungstenite::connect_async(req).await.expect("connects").0
}

async fn closed_with(socket: &mut Socket) -> Value {
    loop {
        let msg = next_json(socket).await.expect("the router answers");
        if msg.get("closed").is_some() {
            return msg["closed"].clone();
        }
    }
}

async fn logout_all(stack: &TestStack, token: &str) {
    let body = gql(stack, "mutation { logoutAll { revoked } }", json!({}), Some(token)).await;
    assert!(body["errors"].is_null(), "{body}");
    let url = stack.router_url("/graphql");
    eventually("the router knows the session is revoked", || async {
        tessera_testkit::graphql(&url, "{ signedIn }", Some(token)).await.0 == 401
    })
    .await;
}

#[tokio::test]
async fn a_verified_token_in_the_upgrade_header_signs_the_socket_in() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let mut socket = open_with_header(&stack, &ada.access).await;
    send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ signedIn }" } })).await;
    let msg = next_json(&mut socket).await.expect("an answer");
    assert_eq!(msg["payload"], json!({ "data": { "signedIn": true } }), "the subgraph saw the verified token: {msg}");
}

#[tokio::test]
async fn after_logout_all_the_old_token_in_an_upgrade_header_cannot_act_and_no_subgraph_receives_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    // A socket opened before the logout, anonymous in `connection_init`.
    let mut before = open_with_header(&stack, &ada.access).await;
    send(&mut before, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(next_json(&mut before).await.expect("ack")["type"], "connection_ack");

    logout_all(&stack, &ada.access).await;
    let auth_requests = stack.subgraph("auth").request_count();

    // The open socket is closed, and its mutation never runs.
    let enroll =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "mutation { enrollTotp { secret } }" } });
    let _ = before.send(Message::text(enroll.to_string())).await;
    assert_eq!(closed_with(&mut before).await, 4403, "the socket of a revoked session closes");

    // A socket opened afterwards with the stolen token in its upgrade header is refused.
    let mut after = open_with_header(&stack, &ada.access).await;
    send(&mut after, json!({ "type": "connection_init", "payload": {} })).await;
    let _ = after.send(Message::text(enroll.to_string())).await;
    assert_eq!(closed_with(&mut after).await, 4403, "the revoked token does not count");
    assert_eq!(stack.subgraph("auth").request_count(), auth_requests, "no subgraph received the old token");

    // A forged token in the header is refused too, never downgraded to anonymous and forwarded.
    let mut forged = open_with_header(&stack, "forged.token.value").await;
    send(&mut forged, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(closed_with(&mut forged).await, 4403);
}

/// Opens a multipart subscription and waits until the subgraph side listens.
async fn multipart(stack: &TestStack, token: &str) -> reqwest::Response {
    let response = tessera_testkit::client::multipart(&stack.router_url("/graphql"), token, QUERY).await;
    assert!(response.headers()["content-type"].to_str().expect("ASCII").starts_with("multipart/mixed"));
    let rt = &stack.subgraph("notifications").rt;
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;
    response
}

/// Reads the multipart body to its end (bounded by 10 s); returns it and how long it took.
async fn read_to_end(response: &mut reqwest::Response) -> (String, Duration) {
    let started = Instant::now();
    let mut received = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("the stream ends within 10 s")
        .expect("readable")
    {
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    (received, started.elapsed())
}

#[tokio::test]
async fn an_open_multipart_subscription_ends_within_a_second_of_logout_all() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let mut response = multipart(&stack, &ada.access).await;

    let started = Instant::now();
    let body = gql(&stack, "mutation { logoutAll { revoked } }", json!({}), Some(&ada.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let (received, _) = read_to_end(&mut response).await;
    let took = started.elapsed();
    println!("multipart subscription ended {took:?} after logoutAll");
    assert!(took < Duration::from_secs(1), "ended within a second: {took:?}");
    assert!(received.contains(r#""code":"UNAUTHENTICATED""#), "{received}");
    assert!(received.ends_with("--graphql--\r\n"), "the close delimiter ends it: {received:?}");
    let rt = &stack.subgraph("notifications").rt;
    eventually("the upstream subscription is released", || async { rt.bus.live_topics() == 0 }).await;
}

#[tokio::test]
async fn an_expired_token_ends_a_multipart_subscription() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let keys = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys");
    let mut claims = tessera_testkit::claims_for(uuid::Uuid::now_v7(), &["customer"]);
    claims.exp = chrono::Utc::now().timestamp() + 2;
    let mut response = multipart(&stack, &keys.sign(&claims)).await;
    let (received, _) = read_to_end(&mut response).await;
    assert!(received.contains("The access token expired"), "{received}");
    assert!(received.ends_with("--graphql--\r\n"), "{received:?}");
}

#[tokio::test]
async fn an_open_legacy_graphql_ws_subscription_ends_after_logout_all() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let mut socket = ws::open(&router_ws(&stack), "graphql-ws").await;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "authorization": ada.access } })).await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    send(&mut socket, json!({ "id": "a", "type": "start", "payload": { "query": QUERY } })).await;
    let rt = &stack.subgraph("notifications").rt;
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    let started = Instant::now();
    let body = gql(&stack, "mutation { logoutAll { revoked } }", json!({}), Some(&ada.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(closed_with(&mut socket).await, 4403);
    assert!(started.elapsed() < Duration::from_secs(1), "within a second: {:?}", started.elapsed());
    eventually("the upstream subscription is released", || async { rt.bus.live_topics() == 0 }).await;
}

#[tokio::test]
async fn websocket_operations_past_the_per_ip_budget_get_rate_limited_errors() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        c.router.rate_limit.per_ip = BucketConfig { capacity: 4.0, per_second: 0.01 };
    })
    .await;
    let mut socket = ws::connect(&router_ws(&stack), json!({})).await; // the upgrade pays one token
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    let login = "mutation { login(input: { identifier: \"nobody\", password: \"wrong guess\" }) { accessToken } }";
    for i in 0..8 {
        send(&mut socket, json!({ "id": i.to_string(), "type": "subscribe", "payload": { "query": login } })).await;
    }
    let mut limited = 0;
    let mut answered = 0;
    while limited + answered < 8 {
        let msg = next_json(&mut socket).await.expect("every operation is answered");
        match msg["type"].as_str() {
            Some("error") if msg["payload"][0]["extensions"]["code"] == "RATE_LIMITED" => limited += 1,
            Some("next") => answered += 1,
            _ => {}
        }
    }
    assert_eq!((answered, limited), (3, 5), "three tokens were left after the upgrade; the rest are refused");
}

#[tokio::test]
async fn a_websocket_message_over_the_body_limit_closes_the_socket_with_4413() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.body_limit_bytes = 4096).await;
    let mut socket = ws::connect(&router_ws(&stack), json!({})).await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    let padding = "x".repeat(8192);
    let big = json!({ "id": "1", "type": "subscribe", "payload": { "query": format!("{{ signedIn }} # {padding}") } });
    let _ = socket.send(Message::text(big.to_string())).await;
    assert_eq!(closed_with(&mut socket).await, 4413);
}

#[tokio::test]
async fn a_websocket_message_megabytes_over_the_limit_still_gets_4413_not_a_reset() {
    // The router refuses such a message from its header, while the client is still sending the
    // rest. Closing at once with those bytes unread makes the kernel answer with a reset, which
    // beats the Close frame to the client (it saw 1006). The router lingers before it drops the
    // socket; tests/clients/ws.mjs repeats this with a client that did see 1006.
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.body_limit_bytes = 4096).await;
    let mut socket = ws::connect(&router_ws(&stack), json!({})).await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    let padding = "x".repeat(3 << 20);
    let big = json!({ "id": "1", "type": "subscribe", "payload": { "query": format!("{{ signedIn }} # {padding}") } });
    let _ = socket.send(Message::text(big.to_string())).await;
    assert_eq!(closed_with(&mut socket).await, 4413);
}

#[tokio::test]
async fn the_router_answers_a_clients_close_frame_with_the_same_code() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let mut socket = ws::connect(&router_ws(&stack), json!({})).await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    socket
        .send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })))
        .await
        .expect("sends the close frame");
    let reply = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("an answer within 5 s");
    match reply {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a Close frame with code 1000, got {other:?}"),
    }
}

/// A multipart reader that parses as Apollo Client 4 does (`readMultipartBody`): the body is
/// split on `\r\n--graphql`, and a part is complete only once the delimiter after it arrives.
struct ApolloParts {
    buffer: String,
}

impl ApolloParts {
    fn push(&mut self, chunk: &[u8]) -> Vec<Value> {
        self.buffer.push_str(&String::from_utf8_lossy(chunk));
        let mut parts = Vec::new();
        while let Some(at) = self.buffer.find("\r\n--graphql") {
            let message: String = self.buffer.drain(..at + "\r\n--graphql".len()).collect();
            let message = &message[..at];
            if let Some(i) = message.find("\r\n\r\n") {
                let body = message[i..].trim();
                if body.starts_with('{') {
                    parts.push(serde_json::from_str(body).expect("a part is JSON"));
                }
            }
        }
        parts
    }
}

#[tokio::test]
async fn apollo_clients_multipart_parser_receives_each_event_as_soon_as_it_is_sent() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (alice, token) = account(&stack, "alice").await;
    let mut response = multipart(&stack, &token).await;
    let rt = &stack.subgraph("notifications").rt;
    let mut parser = ApolloParts { buffer: String::new() };
    for n in 0..3 {
        let title = format!("event {n}");
        let started = Instant::now();
        tessera_notifications::deliver_in_app(rt, &notification(alice, &title)).await.expect("delivers");
        let part = loop {
            let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
                .await
                .expect("a chunk within 10 s")
                .expect("readable")
                .expect("the stream stays open");
            if let Some(part) = parser.push(&chunk).into_iter().find(|p| p.get("payload").is_some()) {
                break part;
            }
        };
        let took = started.elapsed();
        println!("{title}: complete for Apollo's parser after {took:?}");
        assert_eq!(part["payload"]["data"]["notificationAdded"]["title"], title.as_str(), "{part}");
        // Without a delimiter after each part, the parser waits for the 5 s heartbeat.
        assert!(took < Duration::from_secs(1), "{title} waited {took:?}");
    }
}
