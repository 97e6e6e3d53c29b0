//! Registration, sign-in and lockout, end to end through the router.

mod common;

use common::{LOGIN, PASSWORD, code, gql, login, register, sent};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_kit::on_db;
use tessera_testkit::{spawn_configured, spawn_stack, test_bus};

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { user { id username } accessToken } }";

fn input(email: &str, username: &str, password: &str) -> serde_json::Value {
    json!({ "i": { "email": email, "username": username, "password": password } })
}

#[tokio::test]
async fn registering_creates_an_account_and_a_taken_email_or_username_is_a_conflict() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let me = gql(&stack, "{ me { id username email roles emailVerified } }", json!({}), Some(&ada.access)).await;
    assert_eq!(
        me["data"]["me"],
        json!({ "id": ada.id.to_string(), "username": "ada", "email": "ada@example.com",
                "roles": ["customer"], "emailVerified": false }),
        "{me}"
    );

    let same_email = gql(&stack, REGISTER, input(" ADA@Example.com", "ada2", PASSWORD), None).await;
    assert_eq!(code(&same_email), "CONFLICT", "emails are compared normalized: {same_email}");
    assert_eq!(same_email["errors"][0]["extensions"]["field"], "email");
    let same_name = gql(&stack, REGISTER, input("other@example.com", "Ada", PASSWORD), None).await;
    assert_eq!(code(&same_name), "CONFLICT", "{same_name}");
    assert_eq!(same_name["errors"][0]["extensions"]["field"], "username");

    let verification = common::secret_sent(&stack, "Your verification code is ", 1).await;
    assert!(verification.len() == 6 && verification.bytes().all(|b| b.is_ascii_digit()), "{verification}");
    // The event never held the code in clear: it entered the outbox sealed under the bus key.
    let event = &sent(&stack, "AccountRegistered").await[0];
    assert!(event["verificationCode"].as_str().is_some_and(|c| c.starts_with("sealed:v1:")), "{event}");
    assert_eq!(event["userId"], ada.id.to_string());
    assert!(!event.to_string().contains(&verification), "{event}");
}

#[tokio::test]
async fn registration_refuses_bad_input_with_the_field_and_a_reason() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    for (email, username, password, field) in [
        ("not-an-email", "grace", PASSWORD, "email"),
        ("grace@example.com", "gr", PASSWORD, "username"),
        ("grace@example.com", "grace hopper", PASSWORD, "username"),
        ("grace@example.com", "grace", "short", "password"),
        ("grace@example.com", "grace", "passwordpassword", "password"),
        ("grace@example.com", "grace", "grace is the best pilot", "password"),
        ("grace@example.com", "grace", &"x".repeat(129), "password"),
    ] {
        let body = gql(&stack, REGISTER, input(email, username, password), None).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{email}/{username}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        assert!(!body["errors"][0]["message"].as_str().unwrap_or_default().is_empty());
    }
}

#[tokio::test]
async fn registrations_are_limited_per_ip() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.registrations_per_ip_per_hour = 2).await;
    register(&stack, "one").await;
    register(&stack, "two").await;
    let third = gql(&stack, REGISTER, input("three@example.com", "three", PASSWORD), None).await;
    assert_eq!(code(&third), "RATE_LIMITED", "{third}");
    assert!(third["errors"][0]["extensions"]["retryAfterSeconds"].as_i64().is_some_and(|s| s > 0));
}

#[tokio::test]
async fn login_works_with_the_email_or_the_username_and_a_wrong_password_is_unauthenticated() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    for identifier in ["ada", "ADA@example.com"] {
        let ok = login(&stack, identifier, PASSWORD).await;
        assert_eq!(ok["data"]["login"]["user"]["id"], ada.id.to_string(), "{ok}");
        let access = ok["data"]["login"]["accessToken"].as_str().expect("a token");
        let me = gql(&stack, "{ me { username } }", json!({}), Some(access)).await;
        assert_eq!(me["data"]["me"]["username"], "ada", "{me}");
    }
    let wrong = login(&stack, "ada", "violet kettle drifting over granite").await;
    assert_eq!(code(&wrong), "UNAUTHENTICATED", "{wrong}");
    assert!(wrong["data"]["login"].is_null());
}

#[tokio::test]
async fn an_unknown_identifier_and_a_wrong_password_get_the_same_answer() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    register(&stack, "ada").await;
    let wrong_password = login(&stack, "ada", "violet kettle drifting over granite").await;
    let unknown = login(&stack, "nobody", "violet kettle drifting over granite").await;
    assert_eq!(wrong_password, unknown, "the bodies must be identical");
    insta::assert_json_snapshot!(unknown, @r#"
    {
      "data": null,
      "errors": [
        {
          "message": "The email, username or password is not right.",
          "locations": [
            {
              "line": 1,
              "column": 26
            }
          ],
          "path": [
            "login"
          ],
          "extensions": {
            "code": "UNAUTHENTICATED",
            "serviceName": "auth"
          }
        }
      ]
    }
    "#);
}

#[tokio::test]
async fn five_failures_lock_an_account_under_every_identifier_and_unknown_identifiers_alike() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    register(&stack, "ada").await;
    for identifier in ["ada", "nobody"] {
        for _ in 0..5 {
            let body = login(&stack, identifier, "violet kettle drifting over granite").await;
            assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        }
        let locked = login(&stack, identifier, PASSWORD).await;
        assert_eq!(code(&locked), "ACCOUNT_LOCKED", "{identifier}: {locked}");
        let retry = locked["errors"][0]["extensions"]["retryAfterSeconds"].as_i64().expect("a retry hint");
        assert!((800..=900).contains(&retry), "15 minutes: {retry}");
    }
    // The email and the username name one account and share its budget: counting them apart
    // would double the guesses.
    let other = login(&stack, "ada@example.com", PASSWORD).await;
    assert_eq!(code(&other), "ACCOUNT_LOCKED", "the lock is per account: {other}");
}

#[tokio::test]
async fn fifty_parallel_wrong_guesses_evaluate_at_most_five_passwords() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    register(&stack, "ada").await;
    let guesses = (0..50).map(|i| {
        let stack = &stack;
        async move { login(stack, "ada", &format!("violet kettle drifting guess {i}")).await }
    });
    let answers = futures::future::join_all(guesses).await;
    let evaluated = answers.iter().filter(|b| code(b) == "UNAUTHENTICATED").count();
    let refused = answers.iter().filter(|b| ["ACCOUNT_LOCKED", "RATE_LIMITED"].contains(&code(b).as_str())).count();
    assert!(evaluated <= 5, "at most five passwords checked, got {evaluated}");
    assert_eq!(
        evaluated + refused,
        50,
        "every other guess is refused: told to wait while the first five are checked, or locked after"
    );
    let failures = common::security_events(&stack, "LOGIN_FAILED").await;
    assert!(failures <= 5, "{failures} failed sign-ins recorded");
    assert_eq!(code(&login(&stack, "ada", PASSWORD).await), "ACCOUNT_LOCKED", "the real password waits too");
}

#[tokio::test]
async fn parallel_sign_ins_with_the_right_password_are_asked_to_retry_never_told_the_account_is_locked() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    register(&stack, "ada").await;
    let attempts = (0..20).map(|_| login(&stack, "ada", PASSWORD));
    let answers = futures::future::join_all(attempts).await;
    let signed_in = answers.iter().filter(|b| b["data"]["login"]["accessToken"].is_string()).count();
    let asked_to_retry: Vec<_> = answers.iter().filter(|b| code(b) == "RATE_LIMITED").collect();
    assert!(signed_in >= 1, "{answers:?}");
    assert_eq!(signed_in + asked_to_retry.len(), 20, "signed in or asked to retry, never locked: {answers:?}");
    for body in asked_to_retry {
        assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], 1, "{body}");
    }
    let again = login(&stack, "ada", PASSWORD).await;
    assert!(again["data"]["login"]["accessToken"].is_string(), "nothing was locked: {again}");
}

#[tokio::test]
async fn attempts_that_never_finished_end_in_a_lock_that_expires_instead_of_refusing_for_good() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    register(&stack, "ada").await;
    // One finished failure creates the account's count. Then it is as if four more attempts had
    // been admitted an hour ago and never finished: their requests dropped mid-check, or the
    // process stopped. None of them stored a lock, and none will clear the count.
    assert_eq!(code(&login(&stack, "ada", "violet kettle wrong once").await), "UNAUTHENTICATED");
    let db = &stack.subgraph("auth").rt.db;
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    let sql = "UPDATE login_attempts SET failures = 5, admitted_at = $1 WHERE identifier LIKE 'account:%'";
    on_db!(db, |pool| sqlx::query(sql).bind(an_hour_ago).execute(pool).await.map(|_| ())).expect("the count is set");

    let refused = login(&stack, "ada", PASSWORD).await;
    assert_eq!(code(&refused), "ACCOUNT_LOCKED", "{refused}");
    assert!(refused["errors"][0]["extensions"]["retryAfterSeconds"].as_i64().is_some_and(|s| s > 0), "{refused}");
    let sql = "SELECT locked_until FROM login_attempts WHERE identifier LIKE 'account:%'";
    let until: Option<i64> = on_db!(db, |pool| sqlx::query_scalar(sql).fetch_one(pool).await).expect("the count reads");
    assert!(until.is_some(), "a lock is stored, so it ends");
    assert_eq!(common::security_events(&stack, "ACCOUNT_LOCKED_OUT").await, 1);

    let sql = "UPDATE login_attempts SET locked_until = $1 WHERE identifier LIKE 'account:%'";
    on_db!(db, |pool| sqlx::query(sql).bind(an_hour_ago).execute(pool).await.map(|_| ())).expect("the lock ends");
    let signed_in = login(&stack, "ada", PASSWORD).await;
    assert!(signed_in["data"]["login"]["accessToken"].is_string(), "after the lock, the password works: {signed_in}");
}

#[tokio::test]
async fn a_verified_email_is_required_to_sign_in_when_configured() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.identity.require_verified_email = true).await;
    let body = gql(&stack, REGISTER, input("ada@example.com", "ada", PASSWORD), None).await;
    assert!(body["data"]["register"]["accessToken"].is_null(), "no tokens before verification: {body}");
    let refused = login(&stack, "ada", PASSWORD).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["reason"], "EMAIL_NOT_VERIFIED");
    // Signed in, verifyEmail means the caller's own address (the sessionless journey is in
    // auth_hardening); sign-in is refused here, so the test signs a token.
    let id = uuid::Uuid::parse_str(body["data"]["register"]["user"]["id"].as_str().expect("id")).expect("uuid");
    let token = common::token(&stack, id, &["customer"]).await;
    let verify = "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { user { emailVerified } } }";
    let wrong = gql(&stack, verify, json!({ "i": { "code": "000000" } }), Some(&token)).await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
    let code_sent = common::secret_sent(&stack, "Your verification code is ", 1).await;
    let ok = gql(&stack, verify, json!({ "i": { "code": code_sent } }), Some(&token)).await;
    assert_eq!(ok["data"]["verifyEmail"]["user"]["emailVerified"], true, "{ok}");
    let again = gql(&stack, verify, json!({ "i": { "code": code_sent } }), Some(&token)).await;
    assert_eq!(code(&again), "BAD_USER_INPUT", "a code works once: {again}");
    let signed_in = gql(&stack, LOGIN, json!({ "i": { "identifier": "ada", "password": PASSWORD } }), None).await;
    assert!(signed_in["data"]["login"]["accessToken"].is_string(), "{signed_in}");
}

#[tokio::test]
async fn a_profile_needs_a_token_and_answers_with_one() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let anonymous = gql(&stack, "{ me { id } }", json!({}), None).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let signed_in = gql(&stack, "{ me { id } }", json!({}), Some(&ada.access)).await;
    assert_eq!(signed_in["data"]["me"]["id"], ada.id.to_string(), "{signed_in}");
}
