//! Immediate revocation: once `SessionRevoked` is on the bus, the router refuses that session's
//! tokens at once (not when they expire) and closes its websockets with 4403; every subgraph
//! refuses them too, and `AccessRevoked` (a role removed) refuses a user's older tokens.

mod common;

use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_auth::KeyRing;
use tessera_kit::{bus::Event, jwt::Claims};
use tessera_testkit::{TestStack, claims_for, eventually, spawn_stack, ws};
use uuid::Uuid;

async fn sign(stack: &TestStack, claims: &Claims) -> String {
    KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys").sign(claims)
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

/// A POST straight to a subgraph, bypassing the router: the status and body.
async fn direct(stack: &TestStack, subgraph: &str, query: &str, token: &str) -> (u16, serde_json::Value) {
    tessera_testkit::graphql(&stack.subgraph(subgraph).url("/graphql"), query, Some(token)).await
}

#[tokio::test]
async fn after_revoke_role_the_old_token_loses_admin_at_once_at_the_router_and_at_the_subgraph() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let root = common::admin(&stack).await;
    let ada = common::register(&stack, "ada").await;
    let role = "mutation($i: RoleInput!) { assignRole(input: $i) { user { id } } }";
    common::gql(&stack, role, json!({ "i": { "userId": ada.id, "role": "admin" } }), Some(&root)).await;
    let signed_in = common::login(&stack, "ada", common::PASSWORD).await;
    let admin_token = signed_in["data"]["login"]["accessToken"].as_str().expect("a token").to_owned();
    let refresh = signed_in["data"]["login"]["refreshToken"].as_str().expect("a refresh token").to_owned();
    let keys = "{ signingKeyIds }";
    assert!(common::gql(&stack, keys, json!({}), Some(&admin_token)).await["data"]["signingKeyIds"].is_array());

    let revoke = "mutation($i: RoleInput!) { revokeRole(input: $i) { user { id } } }";
    common::gql(&stack, revoke, json!({ "i": { "userId": ada.id, "role": "admin" } }), Some(&root)).await;
    eventually("the router refuses the older token", || async {
        common::code(&common::gql(&stack, keys, json!({}), Some(&admin_token)).await) == "UNAUTHENTICATED"
    })
    .await;
    eventually("the auth subgraph, called directly, refuses it too", || async {
        direct(&stack, "auth", keys, &admin_token).await.0 == 401
    })
    .await;

    // The session lives on: a refresh brings a token with the roles the user has now.
    let renewed = common::refresh(&stack, &refresh).await;
    let customer = renewed["data"]["refreshToken"]["accessToken"].as_str().unwrap_or_else(|| panic!("{renewed}"));
    assert_eq!(common::code(&common::gql(&stack, keys, json!({}), Some(customer)).await), "FORBIDDEN");
    let me = common::gql(&stack, "{ me { roles } }", json!({}), Some(customer)).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["customer"]), "{me}");
}

#[tokio::test]
async fn a_revoked_sessions_token_sent_straight_to_the_subgraphs_is_refused() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = common::register(&stack, "ada").await;
    let probes = [
        ("users", "{ me { id } }"),
        ("orders", "{ myOrders { totalCount } }"),
        ("notifications", "{ notifications(first: 1) { totalCount } }"),
    ];
    for (subgraph, query) in probes {
        let (status, body) = direct(&stack, subgraph, query, &ada.access).await;
        assert_eq!(status, 200, "{subgraph} accepts the live token: {body}");
    }
    common::gql(&stack, "mutation { logout { revoked } }", json!({}), Some(&ada.access)).await;
    for (subgraph, query) in probes {
        eventually("the subgraph refuses the revoked session's token", || async {
            direct(&stack, subgraph, query, &ada.access).await.0 == 401
        })
        .await;
    }
}
