//! Sessions end to end through the router: refresh rotation, the parallel-refresh race, reuse
//! detection revoking the family, timeouts, and sign-out that the router enforces at once.

mod common;

use common::{PASSWORD, code, gql, login, refresh, register, sent};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, eventually, spawn_configured, spawn_stack, test_bus};

async fn status(stack: &TestStack, token: &str) -> u16 {
    tessera_testkit::graphql(&stack.router_url("/graphql"), "{ signedIn }", Some(token)).await.0
}

fn tokens(body: &serde_json::Value, field: &str) -> (String, String) {
    let t = &body["data"][field];
    (
        t["accessToken"].as_str().unwrap_or_else(|| panic!("tokens: {body}")).to_owned(),
        t["refreshToken"].as_str().expect("a refresh token").to_owned(),
    )
}

#[tokio::test]
async fn a_refresh_rotates_the_token_and_an_unknown_one_is_refused() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let first = refresh(&stack, &ada.refresh).await;
    let (access, next) = tokens(&first, "refreshToken");
    assert_ne!(next, ada.refresh, "a new refresh token every time");
    assert_eq!(status(&stack, &access).await, 200);
    let (_, third) = tokens(&refresh(&stack, &next).await, "refreshToken");
    assert_ne!(third, next);

    let unknown = refresh(&stack, "not-a-token").await;
    assert_eq!(code(&unknown), "UNAUTHENTICATED", "{unknown}");
    // Inside the grace window a spent token is refused without ending the session.
    let spent = refresh(&stack, &ada.refresh).await;
    assert_eq!(code(&spent), "UNAUTHENTICATED", "{spent}");
    assert_eq!(status(&stack, &access).await, 200, "two tabs refreshing at once is not an attack");
}

#[tokio::test]
async fn of_ten_parallel_refreshes_with_one_token_exactly_one_wins() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let attempts = (0..10).map(|_| refresh(&stack, &ada.refresh));
    let answers = futures::future::join_all(attempts).await;
    let winners: Vec<_> = answers.iter().filter(|b| b["data"]["refreshToken"].is_object()).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(answers.iter().filter(|b| !b["data"]["refreshToken"].is_object()).all(|b| code(b) == "UNAUTHENTICATED"));
    let (access, next) = tokens(winners[0], "refreshToken");
    assert_eq!(status(&stack, &access).await, 200, "the winner's session lives on");
    assert!(refresh(&stack, &next).await["data"]["refreshToken"].is_object());
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_session_and_the_router_refuses_its_tokens() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.refresh_reuse_grace_seconds = 0).await;
    let ada = register(&stack, "ada").await;
    let other = login(&stack, "ada", PASSWORD).await;
    let other_access = other["data"]["login"]["accessToken"].as_str().expect("a second session").to_owned();
    let (access, next) = tokens(&refresh(&stack, &ada.refresh).await, "refreshToken");
    // Let the rotation be at least a second old: the grace is 0 seconds.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let stolen = refresh(&stack, &ada.refresh).await;
    assert_eq!(code(&stolen), "UNAUTHENTICATED", "{stolen}");
    eventually("the router refuses the family's access token", || async { status(&stack, &access).await == 401 }).await;
    assert_eq!(status(&stack, &ada.access).await, 401, "older access tokens of the family too");
    assert_eq!(code(&refresh(&stack, &next).await), "UNAUTHENTICATED", "the newest refresh token is dead too");
    assert_eq!(status(&stack, &other_access).await, 200, "another session of the user is untouched");
    let revoked = sent(&stack, "SessionRevoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["reason"], "reuse");
    assert_eq!(revoked[0]["userId"], ada.id.to_string());
}

#[tokio::test]
async fn a_session_idle_past_its_timeout_cannot_be_refreshed() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.session_idle_seconds = 1).await;
    let ada = register(&stack, "ada").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = refresh(&stack, &ada.refresh).await;
    assert_eq!(code(&expired), "UNAUTHENTICATED", "{expired}");
    assert!(expired["errors"][0]["message"].as_str().unwrap_or_default().contains("expired"), "{expired}");
}

#[tokio::test]
async fn a_session_past_its_absolute_timeout_cannot_be_refreshed_however_active() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.session_absolute_seconds = 2).await;
    let ada = register(&stack, "ada").await;
    let (_, next) = tokens(&refresh(&stack, &ada.refresh).await, "refreshToken");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(code(&refresh(&stack, &next).await), "UNAUTHENTICATED");
}

const SESSIONS: &str = "{ mySessions { id current device ip } }";

#[tokio::test]
async fn sessions_are_listed_and_each_sign_out_is_enforced_by_the_router_at_once() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let laptop = register(&stack, "ada").await;
    let phone = login(&stack, "ada", PASSWORD).await;
    let phone_access = phone["data"]["login"]["accessToken"].as_str().expect("token").to_owned();
    let tablet = login(&stack, "ada", PASSWORD).await;
    let tablet_access = tablet["data"]["login"]["accessToken"].as_str().expect("token").to_owned();

    let listed = gql(&stack, SESSIONS, json!({}), Some(&laptop.access)).await;
    let sessions = listed["data"]["mySessions"].as_array().unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(sessions.len(), 3, "{listed}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["ip"], "127.0.0.1", "the router passes the client address: {listed}");

    // Sign the phone out from the laptop.
    let phone_id = gql(&stack, SESSIONS, json!({}), Some(&phone_access)).await["data"]["mySessions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["current"] == true).map(|s| s["id"].clone()))
        .expect("the phone's session");
    let revoke = "mutation($i: RevokeSessionInput!) { revokeSession(input: $i) { revoked } }";
    let done = gql(&stack, revoke, json!({ "i": { "sessionId": phone_id } }), Some(&laptop.access)).await;
    assert_eq!(done["data"]["revokeSession"]["revoked"], 1, "{done}");
    eventually("the phone's token is refused", || async { status(&stack, &phone_access).await == 401 }).await;

    let logout = gql(&stack, "mutation { logout { revoked } }", json!({}), Some(&tablet_access)).await;
    assert_eq!(logout["data"]["logout"]["revoked"], 1, "{logout}");
    eventually("the tablet's token is refused", || async { status(&stack, &tablet_access).await == 401 }).await;
    assert_eq!(status(&stack, &laptop.access).await, 200, "the laptop is still signed in");

    let all = gql(&stack, "mutation { logoutAll { revoked } }", json!({}), Some(&laptop.access)).await;
    assert_eq!(all["data"]["logoutAll"]["revoked"], 1, "{all}");
    eventually("the laptop's token is refused", || async { status(&stack, &laptop.access).await == 401 }).await;
    assert_eq!(code(&refresh(&stack, &laptop.refresh).await), "UNAUTHENTICATED", "refresh is over too");
}

#[tokio::test]
async fn a_user_cannot_revoke_someone_elses_session() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let eve = register(&stack, "eve").await;
    let ada_session = gql(&stack, SESSIONS, json!({}), Some(&ada.access)).await["data"]["mySessions"][0]["id"].clone();
    let revoke = "mutation($i: RevokeSessionInput!) { revokeSession(input: $i) { revoked } }";
    let attempt = gql(&stack, revoke, json!({ "i": { "sessionId": ada_session } }), Some(&eve.access)).await;
    assert_eq!(code(&attempt), "NOT_FOUND", "{attempt}");
    assert_eq!(status(&stack, &ada.access).await, 200);
}
