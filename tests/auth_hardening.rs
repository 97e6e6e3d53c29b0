//! Identity against a patient attacker, end to end through the router: second factors on one
//! budget per account, step-up for sensitive changes, a sign-up that finishes without a session
//! and reveals no taken email, lockout that cannot be turned against a known device, and reset
//! links that die with the reset.

mod common;

use common::{LOGIN, PASSWORD, code, enable_totp, gql, login, now, register, sunk};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::config::Config;
use tessera_testkit::{TestStack, eventually, spawn_configured, test_bus};

/// Router budgets off: these tests count the auth subgraph's own budgets.
fn unthrottled(c: &mut Config) {
    c.router.rate_limit.per_ip.per_second = 0.0;
    c.router.rate_limit.per_user.per_second = 0.0;
}

const VERIFY_MFA: &str = "mutation($i: VerifyMfaInput!) { verifyMfa(input: $i) { accessToken } }";
const REAUTHENTICATE: &str = "mutation($i: ReauthenticateInput!) { reauthenticate(input: $i) { stepUpUntil } }";

/// A six-digit code that matches none of the steps the server accepts now.
fn wrong_code(secret: &[u8]) -> String {
    let t = now();
    let valid: Vec<String> =
        [t - 30, t, t + 30].iter().map(|s| tessera_auth::domain::totp::code_at(secret, *s)).collect();
    (0..).map(|n| format!("{n:06}")).find(|c| !valid.contains(c)).expect("a wrong code")
}

#[tokio::test]
async fn two_hundred_wrong_codes_over_forty_logins_evaluate_at_most_the_budget_and_the_owner_is_told() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    let ada = register(&stack, "ada").await;
    let secret = enable_totp(&stack, &ada.access).await;
    let (mut evaluated, mut locked) = (0, 0);
    for _ in 0..40 {
        let challenged = login(&stack, "ada", PASSWORD).await;
        let challenge = challenged["data"]["login"]["mfaChallenge"].as_str().unwrap_or_else(|| panic!("{challenged}"));
        for _ in 0..5 {
            let guess = json!({ "i": { "challenge": challenge, "code": wrong_code(&secret) } });
            let body = gql(&stack, VERIFY_MFA, guess, None).await;
            match code(&body).as_str() {
                "BAD_USER_INPUT" => evaluated += 1,
                "ACCOUNT_LOCKED" => locked += 1,
                other => panic!("{other}: {body}"),
            }
        }
    }
    assert!(evaluated <= 5, "the account's budget is 5 codes, whatever the challenges: {evaluated} evaluated");
    assert_eq!(evaluated + locked, 200);
    assert!(common::security_events(&stack, "MFA_FAILED").await <= 5, "only evaluated codes are failures");

    let challenged = login(&stack, "ada", PASSWORD).await;
    let challenge = challenged["data"]["login"]["mfaChallenge"].as_str().expect("a challenge").to_owned();
    let right = json!({ "i": { "challenge": challenge, "code": tessera_auth::domain::totp::code_at(&secret, now()) } });
    let refused = gql(&stack, VERIFY_MFA, right, None).await;
    assert_eq!(code(&refused), "ACCOUNT_LOCKED", "even the right code waits for the lock: {refused}");
    assert_eq!(refused["errors"][0]["extensions"]["reason"], "SECOND_FACTOR_LOCKED");

    eventually("the owner is emailed about the lock", || async {
        sunk(&stack).iter().any(|m| m.contains("Two-factor sign-in locked") && m.contains("ada@example.com"))
    })
    .await;
    assert_eq!(common::security_events(&stack, "SECOND_FACTOR_LOCKED_OUT").await, 1, "one lock, announced once");
}

#[tokio::test]
async fn deleting_an_account_checks_its_second_factor_on_the_same_budget() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    let ada = register(&stack, "ada").await;
    let secret = enable_totp(&stack, &ada.access).await;
    let delete = "mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted } }";
    let mut answers = Vec::new();
    for _ in 0..8 {
        let guess = json!({ "i": { "password": PASSWORD, "mfaCode": wrong_code(&secret) } });
        answers.push(code(&gql(&stack, delete, guess, Some(&ada.access)).await));
    }
    assert_eq!(answers.iter().filter(|c| *c == "BAD_USER_INPUT").count(), 5, "{answers:?}");
    assert_eq!(answers.iter().filter(|c| *c == "ACCOUNT_LOCKED").count(), 3, "{answers:?}");
}

/// Asks for each sensitive change and returns the codes of the answers.
async fn sensitive_changes(stack: &TestStack, access: &str) -> Vec<(&'static str, Value)> {
    let phone = json!({ "i": { "purpose": "VERIFY_PHONE", "channel": "SMS", "destination": "+14155550123" } });
    let password =
        json!({ "i": { "currentPassword": PASSWORD, "newPassword": "amber lantern beside the quiet harbour" } });
    let requests = [
        ("enrollTotp", "mutation { enrollTotp { secret } }", json!({})),
        ("requestOtp", "mutation($i: RequestOtpInput!) { requestOtp(input: $i) { sentTo } }", phone),
        (
            "changePassword",
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { sessionsRevoked } }",
            password,
        ),
        (
            "deleteMyAccount",
            "mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted } }",
            json!({ "i": { "password": PASSWORD } }),
        ),
    ];
    let mut out = Vec::new();
    for (name, query, variables) in requests {
        out.push((name, gql(stack, query, variables, Some(access)).await));
    }
    out
}

#[tokio::test]
async fn a_stolen_access_token_without_a_recent_proof_cannot_make_sensitive_changes_until_reauthenticate() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        unthrottled(c);
        c.identity.step_up_seconds = 3;
    })
    .await;
    let ada = register(&stack, "ada").await;
    // The sign-in is a proof only while it is recent: past it, the token is all a thief has.
    tokio::time::sleep(std::time::Duration::from_millis(3_500)).await;
    for (name, body) in sensitive_changes(&stack, &ada.access).await {
        assert_eq!(code(&body), "STEP_UP_REQUIRED", "{name}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["methods"], json!(["PASSWORD"]), "{name}: {body}");
    }
    let wrong =
        gql(&stack, REAUTHENTICATE, json!({ "i": { "password": "not the password at all" } }), Some(&ada.access)).await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");

    // Each change works right after a fresh proof.
    let queries = [
        ("mutation { enrollTotp { secret } }", json!({}), "enrollTotp"),
        (
            "mutation($i: RequestOtpInput!) { requestOtp(input: $i) { sentTo } }",
            json!({ "i": { "purpose": "VERIFY_PHONE", "channel": "SMS", "destination": "+14155550123" } }),
            "requestOtp",
        ),
        (
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { sessionsRevoked } }",
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "amber lantern beside the quiet harbour" } }),
            "changePassword",
        ),
        (
            "mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted } }",
            json!({ "i": { "password": "amber lantern beside the quiet harbour" } }),
            "deleteMyAccount",
        ),
    ];
    let mut password = PASSWORD;
    for (query, variables, name) in queries {
        let proof = gql(&stack, REAUTHENTICATE, json!({ "i": { "password": password } }), Some(&ada.access)).await;
        assert!(proof["data"]["reauthenticate"]["stepUpUntil"].is_string(), "{proof}");
        let done = gql(&stack, query, variables, Some(&ada.access)).await;
        assert!(done["data"][name].is_object(), "{name} after reauthenticate: {done}");
        if name == "changePassword" {
            password = "amber lantern beside the quiet harbour";
        }
    }
}

#[tokio::test]
async fn with_mfa_on_only_a_second_factor_is_a_proof() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        unthrottled(c);
        c.identity.step_up_seconds = 2;
    })
    .await;
    let ada = register(&stack, "ada").await;
    let secret = enable_totp(&stack, &ada.access).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let regenerate = "mutation { regenerateRecoveryCodes { recoveryCodes } }";
    let refused = gql(&stack, regenerate, json!({}), Some(&ada.access)).await;
    assert_eq!(code(&refused), "STEP_UP_REQUIRED", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["methods"], json!(["TOTP", "RECOVERY_CODE"]));
    let by_password = gql(&stack, REAUTHENTICATE, json!({ "i": { "password": PASSWORD } }), Some(&ada.access)).await;
    assert_eq!(code(&by_password), "BAD_USER_INPUT", "the password alone is not enough: {by_password}");
    let by_code = json!({ "i": { "code": tessera_auth::domain::totp::code_at(&secret, now() + 30) } });
    let proof = gql(&stack, REAUTHENTICATE, by_code, Some(&ada.access)).await;
    assert!(proof["data"]["reauthenticate"]["stepUpUntil"].is_string(), "{proof}");
    let codes = gql(&stack, regenerate, json!({}), Some(&ada.access)).await;
    assert_eq!(codes["data"]["regenerateRecoveryCodes"]["recoveryCodes"].as_array().map(Vec::len), Some(10), "{codes}");
}

const REGISTER: &str =
    "mutation($i: RegisterInput!) { register(input: $i) { user { username } verificationRequired accessToken } }";
const VERIFY_EMAIL: &str =
    "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { user { username } accessToken refreshToken } }";

#[tokio::test]
async fn in_production_a_new_user_verifies_without_a_session_and_a_taken_email_reveals_nothing() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.require_verified_email = true).await;
    let url = stack.router_url("/graphql");
    let ada = json!({ "i": { "email": "ada@example.com", "username": "ada", "password": PASSWORD } });
    let (status, new) = tessera_testkit::graphql_with(&url, REGISTER, ada, None).await;
    assert_eq!(new["data"]["register"]["verificationRequired"], true, "{new}");
    assert!(new["data"]["register"]["accessToken"].is_null(), "{new}");

    // An unknown address and a wrong code get one answer.
    let wrong = gql(&stack, VERIFY_EMAIL, json!({ "i": { "email": "ada@example.com", "code": "000000" } }), None).await;
    let unknown =
        gql(&stack, VERIFY_EMAIL, json!({ "i": { "email": "eve@example.com", "code": "000000" } }), None).await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
    assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"], "{wrong} vs {unknown}");
    assert_eq!(wrong["errors"][0]["extensions"], unknown["errors"][0]["extensions"]);

    let sent = common::secret_sent(&stack, "Your verification code is ", 1).await;
    let verified = gql(&stack, VERIFY_EMAIL, json!({ "i": { "email": "ADA@example.com", "code": sent } }), None).await;
    let access = verified["data"]["verifyEmail"]["accessToken"].as_str().unwrap_or_else(|| panic!("{verified}"));
    let me = gql(&stack, "{ me { username emailVerified } }", json!({}), Some(access)).await;
    assert_eq!(me["data"]["me"], json!({ "username": "ada", "emailVerified": true }), "signed in: {me}");

    let squatter = json!({ "i": { "email": "Ada@Example.com", "username": "eve", "password": PASSWORD } });
    let (taken_status, taken) = tessera_testkit::graphql_with(&url, REGISTER, squatter, None).await;
    assert_eq!(taken_status, status, "{taken}");
    assert_eq!(
        taken["data"]["register"],
        json!({ "user": { "username": "eve" }, "verificationRequired": true, "accessToken": null }),
        "the same answer as for a new address: {taken}"
    );
    // Nor does the id it answers with: a sign-up is not public before its email is verified,
    // so a real pending account and the pretended one both look unknown.
    let with_id = REGISTER.replace("user { username }", "user { id username }");
    let bob = json!({ "i": { "email": "bob@example.com", "username": "bob", "password": PASSWORD } });
    let pending = gql(&stack, &with_id, bob, None).await["data"]["register"]["user"]["id"].clone();
    let squat = json!({ "i": { "email": "bob@example.com", "username": "mallory", "password": PASSWORD } });
    let pretended = gql(&stack, &with_id, squat, None).await["data"]["register"]["user"]["id"].clone();
    let lookup = "query($id: ID!) { user(id: $id) { username } }";
    eventually("a verified user is public", || async {
        let ada_id = me_id(&stack, access).await;
        gql(&stack, lookup, json!({ "id": ada_id }), None).await["data"]["user"]["username"] == "ada"
    })
    .await;
    for id in [pending, pretended] {
        let found = gql(&stack, lookup, json!({ "id": id }), None).await;
        assert_eq!(found["data"]["user"], Value::Null, "{found}");
    }
    let username = json!({ "i": { "email": "new@example.com", "username": "ada", "password": PASSWORD } });
    assert_eq!(code(&gql(&stack, REGISTER, username, None).await), "CONFLICT", "usernames are public");
    eventually("the owner is told someone tried to register", || async {
        sunk(&stack).iter().any(|m| m.contains("tried to create a Tessera account") && m.contains("ada@example.com"))
    })
    .await;
}

async fn me_id(stack: &TestStack, access: &str) -> Value {
    gql(stack, "{ me { id } }", json!({}), Some(access)).await["data"]["me"]["id"].clone()
}

#[tokio::test]
async fn a_known_device_still_signs_in_while_a_thousand_failures_from_elsewhere_lock_its_account() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    register(&stack, "ada").await;
    let signed_in = gql(
        &stack,
        &LOGIN.replace("mfaChallenge", "mfaChallenge deviceToken"),
        json!({ "i": { "identifier": "ada", "password": PASSWORD } }),
        None,
    )
    .await;
    let device = signed_in["data"]["login"]["deviceToken"].as_str().unwrap_or_else(|| panic!("{signed_in}")).to_owned();

    let mut locked = 0;
    for batch in 0..20 {
        let guesses = (0..50).map(|i| {
            let stack = &stack;
            let identifier = if i % 2 == 0 { "ada" } else { "ada@example.com" };
            async move { login(stack, identifier, &format!("violet kettle wrong guess {batch} {i}")).await }
        });
        let answers = futures::future::join_all(guesses).await;
        locked += answers.iter().filter(|b| ["ACCOUNT_LOCKED", "RATE_LIMITED"].contains(&code(b).as_str())).count();
    }
    // The first batch's refusals wait for its first five guesses (RATE_LIMITED); after them,
    // the lock answers.
    assert!(locked >= 990, "the account locks whichever identifier is used: {locked} of 1000 refused");
    assert_eq!(code(&login(&stack, "ada", PASSWORD).await), "ACCOUNT_LOCKED", "an unknown device waits");

    let with_device = |password: &'static str| json!({ "i": { "identifier": "ada@example.com", "password": password, "deviceToken": device } });
    let known = gql(&stack, LOGIN, with_device(PASSWORD), None).await;
    assert!(known["data"]["login"]["accessToken"].is_string(), "the known device signs in: {known}");
    // The device's own budget is still a budget.
    for _ in 0..5 {
        gql(&stack, LOGIN, with_device("violet kettle wrong again"), None).await;
    }
    assert_eq!(code(&gql(&stack, LOGIN, with_device(PASSWORD), None).await), "ACCOUNT_LOCKED");
}

#[tokio::test]
async fn after_a_reset_an_older_reset_link_for_the_same_account_is_refused() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    register(&stack, "ada").await;
    let request = "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }";
    for n in 1..=2 {
        gql(&stack, request, json!({ "i": { "email": "ada@example.com" } }), None).await;
        common::secret_sent(&stack, "or enter this token: ", n).await;
    }
    let first = common::secret_sent(&stack, "or enter this token: ", 1).await;
    let second = common::secret_sent(&stack, "or enter this token: ", 2).await;
    let reset = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { sessionsRevoked } }";
    let with = |token: &str, password: &str| json!({ "i": { "token": token, "newPassword": password } });
    let done = gql(&stack, reset, with(&second, "amber lantern beside the quiet harbour"), None).await;
    assert!(done["data"]["resetPassword"].is_object(), "{done}");
    let older = gql(&stack, reset, with(&first, "copper meadow under winter rain"), None).await;
    assert_eq!(code(&older), "BAD_USER_INPUT", "the older link died with the reset: {older}");
    assert!(
        login(&stack, "ada", "amber lantern beside the quiet harbour").await["data"]["login"]["accessToken"]
            .is_string()
    );
}

#[tokio::test]
async fn verify_mfa_refuses_an_account_locked_after_its_password_step() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    let root = common::admin(&stack).await;
    let ada = register(&stack, "ada").await;
    let secret = enable_totp(&stack, &ada.access).await;
    let challenged = login(&stack, "ada", PASSWORD).await;
    let challenge = challenged["data"]["login"]["mfaChallenge"].as_str().expect("a challenge").to_owned();
    let lock = "mutation($i: AccountInput!) { lockAccount(input: $i) { user { id } } }";
    gql(&stack, lock, json!({ "i": { "userId": ada.id } }), Some(&root)).await;
    let right =
        json!({ "i": { "challenge": challenge, "code": tessera_auth::domain::totp::code_at(&secret, now() + 30) } });
    let refused = gql(&stack, VERIFY_MFA, right, None).await;
    assert_eq!(code(&refused), "ACCOUNT_LOCKED", "{refused}");
}

#[tokio::test]
async fn the_first_admin_is_not_granted_to_an_account_that_never_verified_the_email() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    let squatter = json!({ "i": { "email": "root@example.com", "username": "root", "password": PASSWORD } });
    gql(&stack, REGISTER, squatter, None).await;
    let state = tessera_auth::State::open(stack.subgraph("auth").rt.clone()).await.expect("auth state");
    let refused = tessera_auth::bootstrap::create_admin(&state, "root@example.com").await.expect_err("refused");
    assert_eq!(refused.code, tessera_kit::ErrorCode::Conflict, "{}", refused.message);
    assert!(refused.message.contains("has not verified it"), "{}", refused.message);
    assert!(!tessera_auth::store::accounts::admin_exists(&state.rt.db).await.expect("reads"), "no admin was made");
}
