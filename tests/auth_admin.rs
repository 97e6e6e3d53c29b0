//! Roles and admin operations, ownership of private fields, the audit trail, the first admin
//! and key rotation, end to end through the router, each rule tried by someone it must stop.

mod common;

use common::{PASSWORD, admin, code, gql, login, refresh, register};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, eventually, graphql_with, spawn_stack};
use uuid::Uuid;

async fn status(stack: &TestStack, token: &str) -> u16 {
    tessera_testkit::graphql(&stack.router_url("/graphql"), "{ signedIn }", Some(token)).await.0
}

const ASSIGN: &str = "mutation($i: RoleInput!) { assignRole(input: $i) { user { id roles } } }";
const LOCK: &str = "mutation($i: AccountInput!) { lockAccount(input: $i) { user { id } } }";
const UNLOCK: &str = "mutation($i: AccountInput!) { unlockAccount(input: $i) { user { id } } }";
const DISABLE: &str = "mutation($i: AccountInput!) { disableAccount(input: $i) { user { id } } }";

#[tokio::test]
async fn a_customer_calling_admin_operations_is_forbidden_by_the_router_and_by_the_subgraph() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let eve = register(&stack, "eve").await;
    let target = json!({ "i": { "userId": eve.id, "role": "admin" } });
    let before = stack.subgraph("auth").request_count();
    let refused = gql(&stack, ASSIGN, target.clone(), Some(&eve.access)).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(stack.subgraph("auth").request_count(), before, "the router refused before calling auth");
    for (op, vars) in [(LOCK, json!({ "i": { "userId": eve.id } })), (DISABLE, json!({ "i": { "userId": eve.id } }))] {
        assert_eq!(code(&gql(&stack, op, vars, Some(&eve.access)).await), "FORBIDDEN");
    }
    let events = "query($u: ID!) { securityEvents(userId: $u) { totalCount } }";
    assert_eq!(code(&gql(&stack, events, json!({ "u": eve.id }), Some(&eve.access)).await), "FORBIDDEN");

    // Straight to the subgraph, past the router: refused all the same.
    let (_, direct) = graphql_with(&stack.subgraph("auth").url("/graphql"), ASSIGN, target, Some(&eve.access)).await;
    assert_eq!(code(&direct), "FORBIDDEN", "{direct}");
    let me = gql(&stack, "{ me { roles } }", json!({}), Some(&eve.access)).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["customer"]), "nothing was granted: {me}");
}

#[tokio::test]
async fn a_role_an_admin_grants_reaches_the_users_token_at_the_next_refresh_or_sign_in_and_a_revoked_one_leaves_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let root = admin(&stack).await;
    let ada = register(&stack, "ada").await;
    let granted = gql(&stack, ASSIGN, json!({ "i": { "userId": ada.id, "role": "admin" } }), Some(&root)).await;
    assert_eq!(granted["data"]["assignRole"]["user"]["roles"], json!(["admin", "customer"]), "{granted}");

    let keys = "{ signingKeyIds }";
    assert_eq!(code(&gql(&stack, keys, json!({}), Some(&ada.access)).await), "FORBIDDEN", "the old token lacks it");
    let refreshed = refresh(&stack, &ada.refresh).await;
    let access = refreshed["data"]["refreshToken"]["accessToken"].as_str().expect("refreshed");
    assert!(gql(&stack, keys, json!({}), Some(access)).await["data"]["signingKeyIds"].is_array());

    let revoke = "mutation($i: RoleInput!) { revokeRole(input: $i) { user { roles } } }";
    let own = gql(&stack, revoke, json!({ "i": { "userId": ada.id, "role": "admin" } }), Some(access)).await;
    assert_eq!(code(&own), "FORBIDDEN", "an admin cannot drop their own admin role: {own}");

    // A sign-in reads the roles with the account: both of them, by either identifier.
    let signed_in = login(&stack, "ada@example.com", PASSWORD).await;
    let access = signed_in["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("{signed_in}"));
    assert!(gql(&stack, keys, json!({}), Some(access)).await["data"]["signingKeyIds"].is_array());
    let revoked = gql(&stack, revoke, json!({ "i": { "userId": ada.id, "role": "admin" } }), Some(&root)).await;
    assert_eq!(revoked["data"]["revokeRole"]["user"]["roles"], json!(["customer"]), "{revoked}");
    let again = login(&stack, "ada", PASSWORD).await;
    let access = again["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("{again}"));
    assert_eq!(code(&gql(&stack, keys, json!({}), Some(access)).await), "FORBIDDEN", "the revoked role is gone");
}

#[tokio::test]
async fn locking_and_disabling_sign_the_user_out_and_unlocking_lets_them_back() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let root = admin(&stack).await;
    let ada = register(&stack, "ada").await;
    let who = json!({ "i": { "userId": ada.id, "reason": "suspicious activity" } });

    gql(&stack, LOCK, who.clone(), Some(&root)).await;
    eventually("the locked user's token is refused", || async { status(&stack, &ada.access).await == 401 }).await;
    assert_eq!(code(&login(&stack, "ada", PASSWORD).await), "ACCOUNT_LOCKED");
    gql(&stack, UNLOCK, who.clone(), Some(&root)).await;
    let back = login(&stack, "ada", PASSWORD).await;
    assert!(back["data"]["login"]["accessToken"].is_string(), "{back}");
    let refresh_token = back["data"]["login"]["refreshToken"].as_str().expect("refresh").to_owned();

    gql(&stack, DISABLE, who, Some(&root)).await;
    assert_eq!(code(&login(&stack, "ada", PASSWORD).await), "FORBIDDEN");
    assert_eq!(code(&refresh(&stack, &refresh_token).await), "UNAUTHENTICATED");

    let trail =
        "query($u: ID!) { securityEvents(userId: $u, first: 100) { totalCount edges { node { kind detail } } } }";
    let events = gql(&stack, trail, json!({ "u": ada.id }), Some(&root)).await;
    let kinds: Vec<&str> = events["data"]["securityEvents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{events}"))
        .iter()
        .filter_map(|e| e["node"]["kind"].as_str())
        .collect();
    for kind in
        ["REGISTERED", "ACCOUNT_LOCKED", "SESSION_REVOKED", "ACCOUNT_UNLOCKED", "LOGIN_SUCCEEDED", "ACCOUNT_DISABLED"]
    {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(kinds[..2].contains(&"ACCOUNT_DISABLED"), "newest first: {kinds:?}");
    assert_eq!(kinds.last(), Some(&"REGISTERED"), "oldest last: {kinds:?}");
}

#[tokio::test]
async fn a_user_sees_their_own_trail_and_only_their_own() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    login(&stack, "ada", "violet kettle drifting over granite").await;
    let query = "query($a: String) { mySecurityEvents(first: 1, after: $a) { totalCount pageInfo { hasNextPage } edges { cursor node { kind ip } } } }";
    let first = gql(&stack, query, json!({}), Some(&ada.access)).await;
    let page = &first["data"]["mySecurityEvents"];
    assert_eq!(page["totalCount"], 2, "{first}");
    assert_eq!(page["edges"][0]["node"]["kind"], "LOGIN_FAILED");
    assert_eq!(page["edges"][0]["node"]["ip"], "127.0.0.1");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let next = gql(&stack, query, json!({ "a": page["edges"][0]["cursor"] }), Some(&ada.access)).await;
    assert_eq!(next["data"]["mySecurityEvents"]["edges"][0]["node"]["kind"], "REGISTERED", "{next}");
    let eve = register(&stack, "eve").await;
    let theirs = gql(&stack, query, json!({}), Some(&eve.access)).await;
    assert_eq!(theirs["data"]["mySecurityEvents"]["totalCount"], 1, "eve sees only hers: {theirs}");
}

#[tokio::test]
async fn one_user_cannot_read_anothers_email_or_roles_even_past_the_router() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let eve = register(&stack, "eve").await;
    let root = admin(&stack).await;
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { username email roles } } }";
    let vars = json!({ "r": [{ "__typename": "User", "id": ada.id }] });
    let url = stack.subgraph("auth").url("/graphql");
    let (_, as_eve) = graphql_with(&url, entities, vars.clone(), Some(&eve.access)).await;
    assert_eq!(as_eve["data"]["_entities"][0]["username"], "ada", "the public part: {as_eve}");
    assert!(as_eve["data"]["_entities"][0]["email"].is_null(), "{as_eve}");
    assert_eq!(code(&as_eve), "FORBIDDEN");
    let (_, as_ada) = graphql_with(&url, entities, vars.clone(), Some(&ada.access)).await;
    assert_eq!(as_ada["data"]["_entities"][0]["email"], "ada@example.com", "{as_ada}");
    let (_, as_admin) = graphql_with(&url, entities, vars, Some(&root)).await;
    assert_eq!(as_admin["data"]["_entities"][0]["roles"], json!(["customer"]), "{as_admin}");
}

#[tokio::test]
async fn a_key_rotation_signs_new_tokens_with_the_new_key_and_old_tokens_keep_working() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let state = tessera_auth::State::open(stack.subgraph("auth").rt.clone()).await.expect("auth state");
    let old = state.keys.kids();
    let new = state.keys.rotate(&state.rt.db).await.expect("rotates");
    // The running subgraph reloads its ring every minute; a restart-free test reloads it now.
    let running = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("ring");
    assert_eq!(running.kids(), [vec![new.clone()], old].concat(), "the new key signs, the old one stays published");
    let jwks: serde_json::Value = reqwest::get(stack.subgraph("auth").url("/.well-known/jwks.json"))
        .await
        .expect("JWKS")
        .json()
        .await
        .expect("JSON");
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "the served ring reloads on its own schedule");
    assert_eq!(status(&stack, &ada.access).await, 200, "a token of the old key still works");
    let token = running.sign(&tessera_testkit::claims_for(Uuid::now_v7(), &["customer"]));
    assert_eq!(status(&stack, &token).await, 401, "an unpublished key is refused until the JWKS has it");
}
