//! Immediate revocation: once `SessionRevoked` is on the bus, the router refuses that session's
//! tokens at once (not when they expire) and closes its websockets with 4403.

use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_auth::KeyRing;
use tessera_kit::{bus::Event, jwt::Claims};
use tessera_testkit::{TestStack, claims_for, eventually, spawn_stack, ws};
use uuid::Uuid;

async fn sign(stack: &TestStack, claims: &Claims) -> String {
    KeyRing::load_or_create(&stack.subgraph("auth").rt.db, 900).await.expect("keys").sign(claims)
}

async fn revoke(stack: &TestStack, claims: &Claims) {
    let event =
        Event::new("SessionRevoked", json!({ "sessionId": claims.sid, "userId": claims.sub, "reason": "logout" }));
    stack.bus.publish(&event).await.expect("publishes");
}

async fn status(stack: &TestStack, token: &str) -> u16 {
    let (status, _) = tessera_testkit::graphql(&stack.router_url("/graphql"), "{ signedIn }", Some(token)).await;
    status
}

#[tokio::test]
async fn a_revoked_sessions_token_is_refused_at_once_and_other_sessions_are_not() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let user = Uuid::now_v7();
    let (phone, laptop) = (claims_for(user, &["customer"]), claims_for(user, &["customer"]));
    let (phone_token, laptop_token) = (sign(&stack, &phone).await, sign(&stack, &laptop).await);
    assert_eq!(status(&stack, &phone_token).await, 200);

    revoke(&stack, &phone).await;
    eventually("the router refuses the revoked session", || async { status(&stack, &phone_token).await == 401 }).await;
    assert_eq!(status(&stack, &laptop_token).await, 200, "the user's other session still works");
}

#[tokio::test]
async fn an_open_socket_of_a_revoked_session_is_closed_with_4403() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let claims = claims_for(Uuid::now_v7(), &["customer"]);
    let token = sign(&stack, &claims).await;
    let url = format!("ws://{}/graphql", stack.router);
    let mut socket = ws::subscribe(&url, Some(&token), "subscription { notificationAdded { title } }").await;
    let rt = &stack.subgraph("notifications").rt;
    eventually("the subscription listens", || async { rt.bus.live_topics() == 1 }).await;

    revoke(&stack, &claims).await;
    let msg = ws::next_json(&mut socket).await.expect("the router closes the socket");
    assert_eq!(msg["closed"], 4403, "{msg}");
    eventually("the upstream subscription is released", || async { rt.bus.live_topics() == 0 }).await;

    // Reconnecting with the same token is refused at `connection_init`.
    let mut again = ws::connect(&url, json!({ "Authorization": format!("Bearer {token}") })).await;
    assert_eq!(ws::next_json(&mut again).await.expect("an answer")["closed"], 4403);
}
