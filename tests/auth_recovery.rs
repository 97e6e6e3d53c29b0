//! Password recovery and change, one-time codes and TOTP, end to end through the router.

mod common;

use common::{PASSWORD, code, gql, login, register, sent, totp_secret};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, eventually, spawn_configured, spawn_stack, test_bus};

const NEW_PASSWORD: &str = "copper lantern humming beneath snow";

async fn status(stack: &TestStack, token: &str) -> u16 {
    tessera_testkit::graphql(&stack.router_url("/graphql"), "{ signedIn }", Some(token)).await.0
}

const REQUEST_RESET: &str = "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }";
const RESET: &str = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { sessionsRevoked } }";

#[tokio::test]
async fn a_reset_answers_the_same_for_unknown_emails_works_once_and_signs_everyone_out() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let known = gql(&stack, REQUEST_RESET, json!({ "i": { "email": "ada@example.com" } }), None).await;
    let unknown = gql(&stack, REQUEST_RESET, json!({ "i": { "email": "nobody@example.com" } }), None).await;
    assert_eq!(known, unknown, "the answer reveals nothing");
    assert_eq!(known["data"]["requestPasswordReset"]["accepted"], true);

    eventually("the reset link is on its way", || async { !sent(&stack, "PasswordResetRequested").await.is_empty() })
        .await;
    let links = sent(&stack, "PasswordResetRequested").await;
    assert_eq!(links.len(), 1, "only the real account gets a link");
    let token = common::secret_sent(&stack, "or enter this token: ", 1).await;
    assert!(token.len() >= 43, "256 bits");

    let weak = gql(&stack, RESET, json!({ "i": { "token": token, "newPassword": "short" } }), None).await;
    assert_eq!(code(&weak), "BAD_USER_INPUT", "{weak}");
    let ok = gql(&stack, RESET, json!({ "i": { "token": token, "newPassword": NEW_PASSWORD } }), None).await;
    assert_eq!(ok["data"]["resetPassword"]["sessionsRevoked"], 1, "a refused password did not burn the token: {ok}");
    let twice = gql(&stack, RESET, json!({ "i": { "token": token, "newPassword": NEW_PASSWORD } }), None).await;
    assert_eq!(code(&twice), "BAD_USER_INPUT", "a reset token works once: {twice}");

    eventually("the old session is refused", || async { status(&stack, &ada.access).await == 401 }).await;
    assert_eq!(code(&login(&stack, "ada", PASSWORD).await), "UNAUTHENTICATED", "the old password is gone");
    assert!(login(&stack, "ada", NEW_PASSWORD).await["data"]["login"]["accessToken"].is_string());
    assert_eq!(sent(&stack, "PasswordChanged").await[0]["reason"], "password_reset", "the user is told");
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_signs_out_the_other_sessions() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let laptop = register(&stack, "ada").await;
    let phone = login(&stack, "ada", PASSWORD).await;
    let phone_access = phone["data"]["login"]["accessToken"].as_str().expect("token").to_owned();
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { sessionsRevoked } }";
    let wrong = json!({ "i": { "currentPassword": "not my password at all", "newPassword": NEW_PASSWORD } });
    let refused = gql(&stack, change, wrong, Some(&laptop.access)).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "currentPassword");

    let right = json!({ "i": { "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD } });
    let changed = gql(&stack, change, right, Some(&laptop.access)).await;
    assert_eq!(changed["data"]["changePassword"]["sessionsRevoked"], 1, "{changed}");
    eventually("the phone is signed out", || async { status(&stack, &phone_access).await == 401 }).await;
    assert_eq!(status(&stack, &laptop.access).await, 200, "this session stays");
}

const REQUEST_OTP: &str = "mutation($i: RequestOtpInput!) { requestOtp(input: $i) { sentTo expiresAt } }";
const VERIFY_OTP: &str = "mutation($i: VerifyOtpInput!) { verifyOtp(input: $i) { verified } }";

/// The `n`-th one-time code sent (1-based), read from the message as the user would.
async fn nth_code(stack: &TestStack, n: usize) -> String {
    common::secret_sent(stack, "one-time code is ", n).await
}

#[tokio::test]
async fn a_one_time_code_allows_five_guesses_and_works_once() {
    // The account's second-factor budget (see auth_hardening) is raised so the per-code cap shows.
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.mfa_lockout_threshold = 20).await;
    let ada = register(&stack, "ada").await;
    let request = json!({ "i": { "purpose": "STEP_UP", "channel": "EMAIL" } });
    let sent_to = gql(&stack, REQUEST_OTP, request.clone(), Some(&ada.access)).await;
    assert_eq!(sent_to["data"]["requestOtp"]["sentTo"], "a***@example.com", "{sent_to}");
    let right = nth_code(&stack, 1).await;
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let body =
            gql(&stack, VERIFY_OTP, json!({ "i": { "purpose": "STEP_UP", "code": wrong } }), Some(&ada.access)).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    }
    let capped =
        gql(&stack, VERIFY_OTP, json!({ "i": { "purpose": "STEP_UP", "code": right } }), Some(&ada.access)).await;
    assert_eq!(code(&capped), "BAD_USER_INPUT", "after five wrong guesses even the right code is dead: {capped}");

    gql(&stack, REQUEST_OTP, request, Some(&ada.access)).await;
    let fresh = nth_code(&stack, 2).await;
    let ok = gql(&stack, VERIFY_OTP, json!({ "i": { "purpose": "STEP_UP", "code": fresh } }), Some(&ada.access)).await;
    assert_eq!(ok["data"]["verifyOtp"]["verified"], true, "{ok}");
    let again =
        gql(&stack, VERIFY_OTP, json!({ "i": { "purpose": "STEP_UP", "code": fresh } }), Some(&ada.access)).await;
    assert_eq!(code(&again), "BAD_USER_INPUT", "single use: {again}");
    let stored: Vec<Vec<u8>> = {
        let db = &stack.subgraph("auth").rt.db;
        tessera_kit::on_db!(db, |pool| sqlx::query_scalar("SELECT code_hash FROM one_time_codes").fetch_all(pool).await)
            .expect("codes read")
    };
    assert!(stored.iter().all(|h| h.len() == 32 && !h.windows(6).any(|w| w == fresh.as_bytes())), "stored as HMACs");
}

#[tokio::test]
async fn codes_to_one_destination_are_limited_per_hour_and_sms_verifies_a_phone() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.codes_per_destination_per_hour = 2).await;
    let ada = register(&stack, "ada").await;
    let phone = json!({ "i": { "purpose": "VERIFY_PHONE", "channel": "SMS", "destination": "+1 415 555 0123" } });
    let first = gql(&stack, REQUEST_OTP, phone.clone(), Some(&ada.access)).await;
    assert_eq!(first["data"]["requestOtp"]["sentTo"], "+1******0123", "{first}");
    assert_eq!(sent(&stack, "OtpRequested").await[0]["channel"], "SMS");
    let verify = json!({ "i": { "purpose": "VERIFY_PHONE", "code": nth_code(&stack, 1).await } });
    assert_eq!(gql(&stack, VERIFY_OTP, verify, Some(&ada.access)).await["data"]["verifyOtp"]["verified"], true);

    let by_sms = json!({ "i": { "purpose": "STEP_UP", "channel": "SMS" } });
    let step_up = gql(&stack, REQUEST_OTP, by_sms.clone(), Some(&ada.access)).await;
    assert_eq!(step_up["data"]["requestOtp"]["sentTo"], "+1******0123", "the verified phone is used: {step_up}");
    let third = gql(&stack, REQUEST_OTP, by_sms, Some(&ada.access)).await;
    assert_eq!(code(&third), "RATE_LIMITED", "two codes an hour to this phone: {third}");
    let by_email = json!({ "i": { "purpose": "STEP_UP", "channel": "EMAIL" } });
    assert!(
        gql(&stack, REQUEST_OTP, by_email, Some(&ada.access)).await["data"]["requestOtp"].is_object(),
        "per destination"
    );
}

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970")
}

#[tokio::test]
async fn totp_guards_sign_in_a_code_cannot_be_replayed_and_a_recovery_code_works_once() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let enrolled = gql(&stack, "mutation { enrollTotp { otpauthUri secret } }", json!({}), Some(&ada.access)).await;
    let uri = enrolled["data"]["enrollTotp"]["otpauthUri"].as_str().unwrap_or_else(|| panic!("{enrolled}"));
    assert!(uri.starts_with("otpauth://totp/Tessera:ada%40example.com?"), "{uri}");
    let secret = totp_secret(enrolled["data"]["enrollTotp"]["secret"].as_str().expect("secret"));

    let confirm = "mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes } }";
    // The step before the current one: still accepted (drift), and leaves the current step unused.
    let confirmed = gql(
        &stack,
        confirm,
        json!({ "i": { "code": tessera_auth::domain::totp::code_at(&secret, now() - 30) } }),
        Some(&ada.access),
    )
    .await;
    let recovery: Vec<String> = serde_json::from_value(confirmed["data"]["confirmTotp"]["recoveryCodes"].clone())
        .unwrap_or_else(|_| panic!("{confirmed}"));
    assert_eq!(recovery.len(), 10);

    let challenged = login(&stack, "ada", PASSWORD).await;
    assert_eq!(challenged["data"]["login"]["mfaRequired"], true, "{challenged}");
    assert!(challenged["data"]["login"]["accessToken"].is_null(), "no tokens before the second factor");
    let challenge = challenged["data"]["login"]["mfaChallenge"].as_str().expect("a challenge").to_owned();
    let verify = "mutation($i: VerifyMfaInput!) { verifyMfa(input: $i) { accessToken user { username } } }";
    let current = tessera_auth::domain::totp::code_at(&secret, now());
    let done = gql(&stack, verify, json!({ "i": { "challenge": challenge, "code": current } }), None).await;
    assert!(done["data"]["verifyMfa"]["accessToken"].is_string(), "{done}");
    assert_eq!(
        code(&gql(&stack, verify, json!({ "i": { "challenge": challenge, "code": current } }), None).await),
        "UNAUTHENTICATED",
        "a challenge completes once"
    );

    // A code seen over someone's shoulder is worthless within its window.
    let again =
        login(&stack, "ada", PASSWORD).await["data"]["login"]["mfaChallenge"].as_str().expect("challenge").to_owned();
    let replay = gql(&stack, verify, json!({ "i": { "challenge": again, "code": current } }), None).await;
    assert_eq!(code(&replay), "BAD_USER_INPUT", "replayed TOTP: {replay}");
    let by_recovery =
        gql(&stack, verify, json!({ "i": { "challenge": again, "code": recovery[0].to_uppercase() } }), None).await;
    assert!(by_recovery["data"]["verifyMfa"]["accessToken"].is_string(), "{by_recovery}");
    let third =
        login(&stack, "ada", PASSWORD).await["data"]["login"]["mfaChallenge"].as_str().expect("challenge").to_owned();
    let reused = gql(&stack, verify, json!({ "i": { "challenge": third, "code": recovery[0] } }), None).await;
    assert_eq!(code(&reused), "BAD_USER_INPUT", "a recovery code works once: {reused}");

    let disable = "mutation($i: DisableTotpInput!) { disableTotp(input: $i) { mfaEnabled } }";
    let refused =
        gql(&stack, disable, json!({ "i": { "password": "not the password at all" } }), Some(&ada.access)).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "a wrong password, not a signed-out caller: {refused}");
    let off = gql(&stack, disable, json!({ "i": { "password": PASSWORD } }), Some(&ada.access)).await;
    assert_eq!(off["data"]["disableTotp"]["mfaEnabled"], false, "{off}");
    assert!(login(&stack, "ada", PASSWORD).await["data"]["login"]["accessToken"].is_string());
}
