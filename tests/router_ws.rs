//! Subscriptions through the router over websockets: events carry fields from other
//! subgraphs, each subscriber sees only their own, protocol violations close with their codes,
//! and a closed client leaves nothing behind.

mod common;

use common::{account, notification};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{
    TestStack, eventually, spawn_configured, spawn_stack, test_bus,
    ws::{self, next_json, send},
};

fn router_ws(stack: &TestStack) -> String {
    format!("ws://{}/graphql", stack.router)
}

const QUERY: &str = "subscription { notificationAdded { title user { id username } } }";

#[tokio::test]
async fn an_event_through_the_router_carries_a_field_from_another_subgraph() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (alice, alice_token) = account(&stack, "alice").await;
    let (bob, _) = account(&stack, "bob").await;
    let mut socket = ws::subscribe(&router_ws(&stack), Some(&alice_token), QUERY).await;
    let rt = &stack.subgraph("notifications").rt;
    eventually("the router's upstream subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    tessera_notifications::deliver_in_app(rt, &notification(bob, "for bob")).await.expect("delivers");
    tessera_notifications::deliver_in_app(rt, &notification(alice, "for alice")).await.expect("delivers");

    let msg = next_json(&mut socket).await.expect("an event");
    assert_eq!(
        msg,
        json!({ "type": "next", "id": "1", "payload": { "data": { "notificationAdded": {
            "title": "for alice",
            "user": { "id": alice.to_string(), "username": "alice" },
        } } } }),
        "bob's notification came first and must not show"
    );

    // The client leaves: the router closes its upstream subscription too.
    drop(socket);
    eventually("the subgraph side is released", || async { rt.bus.live_topics() == 0 }).await;
}

#[tokio::test]
async fn an_anonymous_subscription_to_an_authenticated_field_is_refused_by_the_router() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let mut socket = ws::subscribe(&router_ws(&stack), None, QUERY).await;
    let msg = next_json(&mut socket).await.expect("an answer");
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{msg}");
    assert_eq!(stack.subgraph("notifications").rt.bus.live_topics(), 0, "the subgraph was never asked");
}

#[tokio::test]
async fn a_query_over_the_socket_answers_once_then_completes() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let mut socket = ws::subscribe(&router_ws(&stack), None, "{ signedIn }").await;
    assert_eq!(
        next_json(&mut socket).await,
        Some(json!({ "type": "next", "id": "1", "payload": { "data": { "signedIn": false } } }))
    );
    assert_eq!(next_json(&mut socket).await, Some(json!({ "type": "complete", "id": "1" })));
}

async fn closed_with(socket: &mut ws::Socket) -> Value {
    loop {
        let msg = next_json(socket).await.expect("the router answers");
        if msg.get("closed").is_some() {
            return msg["closed"].clone();
        }
    }
}

#[tokio::test]
async fn protocol_violations_close_the_socket_with_their_codes() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.ws_init_timeout_ms = 300).await;
    let url = router_ws(&stack);
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ signedIn }" } });

    let mut before_ack = ws::open(&url, "graphql-transport-ws").await;
    send(&mut before_ack, subscribe.clone()).await;
    assert_eq!(closed_with(&mut before_ack).await, 4401, "subscribe before ack");

    let mut twice = ws::connect(&url, json!({})).await;
    send(&mut twice, json!({ "type": "connection_init" })).await;
    assert_eq!(closed_with(&mut twice).await, 4429, "repeated init");

    let mut forged = ws::connect(&url, json!({ "Authorization": "Bearer forged.token.value" })).await;
    assert_eq!(closed_with(&mut forged).await, 4403, "forbidden token");

    let mut silent = ws::open(&url, "graphql-transport-ws").await;
    assert_eq!(closed_with(&mut silent).await, 4408, "init timeout");

    let mut garbage = ws::connect(&url, json!({})).await;
    send(&mut garbage, json!({ "type": "what" })).await;
    assert_eq!(closed_with(&mut garbage).await, 4400, "bad message");

    let (_, token) = account(&stack, "dup").await;
    let mut duplicate = ws::subscribe(&url, Some(&token), QUERY).await;
    let rt = &stack.subgraph("notifications").rt;
    eventually("the first subscription listens", || async { rt.bus.live_topics() == 1 }).await;
    send(&mut duplicate, json!({ "id": "1", "type": "subscribe", "payload": { "query": QUERY } })).await;
    assert_eq!(closed_with(&mut duplicate).await, 4409, "duplicate id");
    eventually("closing freed the subscription", || async { rt.bus.live_topics() == 0 }).await;
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works_too() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let mut socket = ws::open(&router_ws(&stack), "graphql-ws").await;
    send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    send(&mut socket, json!({ "id": "a", "type": "start", "payload": { "query": "{ signedIn }" } })).await;
    assert_eq!(
        next_json(&mut socket).await,
        Some(json!({ "type": "data", "id": "a", "payload": { "data": { "signedIn": false } } }))
    );
    assert_eq!(next_json(&mut socket).await, Some(json!({ "type": "complete", "id": "a" })));
}

#[tokio::test]
async fn a_supergraph_reload_keeps_open_subscriptions_and_serves_the_new_schema() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("supergraph.graphql");
    let original = tessera::compose::supergraph(&tessera_kit::config::Config::default()).expect("composes");
    std::fs::write(&path, &original).expect("writes");
    let file = path.clone();
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.supergraph_path = Some(file);
        c.router.supergraph_poll_ms = 50;
    })
    .await;
    let (alice, token) = account(&stack, "alice").await;
    let mut socket = ws::subscribe(&router_ws(&stack), Some(&token), QUERY).await;
    let rt = &stack.subgraph("notifications").rt;
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    // A broken file is ignored; a good new one is picked up.
    std::fs::write(&path, "this is not a supergraph").expect("writes");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let changed = original.replace("Whether the caller is signed in", "RELOADED: whether the caller is signed in");
    assert_ne!(changed, original, "the marker text exists in the supergraph");
    std::fs::write(&path, &changed).expect("writes");
    let router = stack.router_url("/graphql");
    eventually("the router serves the new supergraph", || async {
        let (_, body) =
            tessera_testkit::graphql(&router, r#"{ __type(name: "Query") { fields { description } } }"#, None).await;
        body.to_string().contains("RELOADED")
    })
    .await;

    tessera_notifications::deliver_in_app(rt, &notification(alice, "after the reload")).await.expect("delivers");
    let msg = next_json(&mut socket).await.expect("the subscription survived the reload");
    assert_eq!(msg["payload"]["data"]["notificationAdded"]["title"], "after the reload", "{msg}");
    assert_eq!(msg["payload"]["data"]["notificationAdded"]["user"]["username"], "alice", "{msg}");
}

#[tokio::test]
async fn a_multipart_http_subscription_streams_events_and_frees_everything_when_dropped() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (alice, token) = account(&stack, "alice").await;
    let mut response = tessera_testkit::client::multipart(&stack.router_url("/graphql"), &token, QUERY).await;
    assert!(response.headers()["content-type"].to_str().expect("ASCII").starts_with("multipart/mixed"));
    let rt = &stack.subgraph("notifications").rt;
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    tessera_notifications::deliver_in_app(rt, &notification(alice, "over multipart")).await.expect("delivers");
    let mut received = String::new();
    while !received.contains("over multipart") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), response.chunk())
            .await
            .expect("a part within 5 s")
            .expect("readable")
            .expect("the stream stays open");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("--graphql\r\ncontent-type: application/json"), "{received}");
    // Each part is followed by the delimiter that completes it.
    let json = received.rsplit("\r\n\r\n").next().expect("a part body").trim_end_matches("\r\n--graphql");
    let part: Value = serde_json::from_str(json).expect("the part is JSON");
    assert_eq!(part["payload"]["data"]["notificationAdded"]["user"]["username"], "alice", "{part}");

    drop(response);
    eventually("the subgraph side is released", || async { rt.bus.live_topics() == 0 }).await;
}

#[tokio::test]
async fn a_connection_over_its_subscription_cap_gets_an_error_for_the_extra_one() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.max_subscriptions_per_connection = 1).await;
    let (_, token) = account(&stack, "capped").await;
    let mut socket = ws::subscribe(&router_ws(&stack), Some(&token), QUERY).await;
    send(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": { "query": QUERY } })).await;
    let msg = next_json(&mut socket).await.expect("an answer");
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["id"], "2");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "SUBSCRIPTION_LIMIT", "{msg}");
}

#[tokio::test]
async fn the_socket_closes_with_4403_when_its_token_expires() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let keys = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys");
    let mut claims = tessera_testkit::claims_for(uuid::Uuid::now_v7(), &["customer"]);
    claims.exp = chrono::Utc::now().timestamp() + 1;
    let mut socket = ws::subscribe(&router_ws(&stack), Some(&keys.sign(&claims)), QUERY).await;
    assert_eq!(closed_with(&mut socket).await, 4403);
}

#[tokio::test]
async fn websocket_operations_count_under_the_client_name_of_the_upgrade_request() {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (_, token) = account(&stack, "carol").await;
    let mut req = router_ws(&stack).into_client_request().expect("a websocket request");
    let headers = req.headers_mut();
    headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    headers.insert("apollographql-client-name", HeaderValue::from_static("ws-shop"));
    headers.insert("apollographql-client-version", HeaderValue::from_static("2.0.1"));
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.expect("connects");
    send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next_json(&mut socket).await.expect("an ack")["type"], "connection_ack");
    for id in ["1", "2"] {
        send(&mut socket, json!({ "id": id, "type": "subscribe", "payload": { "query": QUERY } })).await;
    }
    let metrics =
        || async { reqwest::get(stack.router_url("/metrics")).await.expect("answers").text().await.expect("text") };
    eventually("both operations are counted", || async {
        metrics().await.contains(r#"client_requests_total{client_name="ws-shop",client_version="2.0.1"} 2"#)
    })
    .await;
}

/// Sends one text message of `bytes` bytes (a `subscribe` with a padded query) on a fresh,
/// acknowledged socket to `url`; what comes back.
async fn after_a_message_of(url: &str, bytes: usize) -> Option<Value> {
    let mut socket = ws::connect(url, json!({})).await;
    let ack = next_json(&mut socket).await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let query = format!("{{ __typename }}#{}", "x".repeat(bytes));
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })).await;
    next_json(&mut socket).await
}

#[tokio::test]
async fn a_websocket_message_over_the_body_limit_ends_the_socket_at_the_router_and_at_a_subgraph() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let notifications = format!("ws://{}/graphql", stack.subgraph("notifications").addr);
    for url in [router_ws(&stack), notifications] {
        // Under the limit (1 MiB by default), the message is read and answered.
        let answered = after_a_message_of(&url, 1000).await.expect("an answer");
        assert_eq!(answered["type"], "next", "{url}: {answered}");
        // Over it, the socket ends without the message being read whole (axum's own bound was
        // 64 MiB: a subgraph read and parsed it).
        let refused = after_a_message_of(&url, 2 * 1024 * 1024).await;
        assert!(refused.as_ref().is_none_or(|m| m.get("closed").is_some()), "{url}: {refused:?}");
    }
}
