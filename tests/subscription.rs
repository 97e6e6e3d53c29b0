//! Subscriptions straight on the notifications subgraph over graphql-transport-ws: auth rides in
//! `connection_init`, and a subscriber sees only their own notifications.

mod common;

use common::notification;
use futures::SinkExt;
use serde_json::{Value, json};
use tessera_auth::KeyRing;
use tessera_testkit::{
    TestStack, claims_for, eventually, spawn_stack,
    ws::{self, Socket, next_json},
};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

async fn connect(stack: &TestStack, init: Value) -> Socket {
    ws::connect(&format!("ws://{}/graphql", stack.subgraph("notifications").addr), init).await
}

async fn subscribe(stack: &TestStack, token: &str) -> Socket {
    let url = format!("ws://{}/graphql", stack.subgraph("notifications").addr);
    ws::subscribe(&url, Some(token), "subscription { notificationAdded { title user { id } } }").await
}

#[tokio::test]
async fn a_subscriber_receives_their_own_notifications_and_nobody_elses() {
    let stack = spawn_stack(&[tessera_auth::SPEC, tessera_notifications::SPEC]).await;
    let keys = KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys");
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let mut alice_ws = subscribe(&stack, &keys.sign(&claims_for(alice, &["customer"]))).await;
    let rt = &stack.subgraph("notifications").rt;
    // The subscription is registered asynchronously after `subscribe`; wait until it listens.
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    tessera_notifications::deliver_in_app(rt, &notification(bob, "for bob")).await.expect("delivers");
    tessera_notifications::deliver_in_app(rt, &notification(alice, "for alice")).await.expect("delivers");

    let msg = next_json(&mut alice_ws).await.expect("a notification");
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["payload"]["data"]["notificationAdded"]["title"], "for alice", "bob's came first and must not show");
    assert_eq!(msg["payload"]["data"]["notificationAdded"]["user"]["id"], alice.to_string());

    // Closing the socket frees the topic: nothing stays behind per connection.
    alice_ws.close(None).await.expect("closes");
    drop(alice_ws);
    eventually("the topic is released", || async { rt.bus.live_topics() == 0 }).await;
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_the_socket_with_4403() {
    let stack = spawn_stack(&[tessera_auth::SPEC, tessera_notifications::SPEC]).await;
    let mut ws = connect(&stack, json!({ "authorization": "Bearer forged.token.here" })).await;
    let msg = next_json(&mut ws).await.expect("an answer");
    assert_eq!(msg["closed"], 4403, "{msg}");
}

#[tokio::test]
async fn an_anonymous_subscription_to_an_authenticated_field_is_refused() {
    let stack = spawn_stack(&[tessera_auth::SPEC, tessera_notifications::SPEC]).await;
    let mut ws = connect(&stack, json!({})).await;
    assert_eq!(next_json(&mut ws).await.expect("an answer")["type"], "connection_ack");
    let query = "subscription { notificationAdded { title } }";
    ws.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }).to_string()))
        .await
        .expect("sends");
    let msg = next_json(&mut ws).await.expect("an answer");
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{msg}");
}
