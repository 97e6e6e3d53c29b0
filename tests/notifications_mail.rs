//! Email through a real SMTP server on 127.0.0.1: the welcome message and its verification code,
//! the redacted history, retries and dead letters when the server refuses, and recovery.

mod common;

use common::{admin, code, count_in, gql, register};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_kit::config::SecretUrl;
use tessera_testkit::{TestStack, eventually, smtp::SmtpServer, spawn_configured, test_bus};

/// Every subgraph and the router, mailing through `smtp`, retrying fast (50 ms, then doubling)
/// and giving up after 3 attempts.
pub async fn stack_mailing_to(smtp: &SmtpServer) -> TestStack {
    let url = SecretUrl::parse(&smtp.url()).expect("a URL");
    spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.delivery.smtp_url = Some(url);
        c.delivery.first_retry_ms = 50;
        c.delivery.max_attempts = 3;
    })
    .await
}

const MY_NOTIFICATIONS: &str =
    "{ myNotifications(first: 10) { totalCount edges { node { kind title body read } } } unreadNotificationCount }";

/// How many of `user`'s deliveries still hold their sealed message.
async fn sealed_for(stack: &TestStack, user: uuid::Uuid) -> i64 {
    let sql = "SELECT COUNT(*) FROM deliveries WHERE user_id = $1 AND sealed IS NOT NULL";
    count_in(stack, "notifications", sql, user).await
}

/// The six digits after `marker` in the mail's decoded text.
fn code_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in {text}")) + marker.len();
    text[start..].chars().take_while(char::is_ascii_digit).collect()
}

#[tokio::test]
async fn registering_mails_a_welcome_whose_code_verifies_the_account_and_the_history_keeps_it_redacted() {
    let smtp = SmtpServer::start().await;
    let stack = stack_mailing_to(&smtp).await;
    let ada = register(&stack, "ada").await;

    eventually("the welcome email arrives", || async { smtp.mails_to("ada@example.com").len() == 1 }).await;
    let mail = &smtp.mails_to("ada@example.com")[0];
    assert_eq!(mail.subject(), "Welcome to Tessera, ada");
    assert!(mail.data.contains("text/html"), "a text and an HTML part: {}", mail.data);
    let text = mail.decoded();
    let secret = code_after(&text, "Your verification code is ");
    assert_eq!(secret.len(), 6, "{text}");

    let listed = gql(&stack, MY_NOTIFICATIONS, json!({}), Some(&ada.access)).await;
    let node = &listed["data"]["myNotifications"]["edges"][0]["node"];
    assert_eq!(listed["data"]["myNotifications"]["totalCount"], 1, "{listed}");
    assert_eq!(node["kind"], "WELCOME", "{listed}");
    assert!(node["body"].as_str().expect("a body").contains("[redacted]"), "{listed}");
    assert!(!listed.to_string().contains(&secret), "the in-app copy never shows the code");
    assert_eq!(listed["data"]["unreadNotificationCount"], 1);

    // The code from the email verifies the account, through the router.
    let verify = "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { user { emailVerified } } }";
    let wrong = gql(&stack, verify, json!({ "i": { "code": "000000" } }), Some(&ada.access)).await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
    let verified = gql(&stack, verify, json!({ "i": { "code": secret } }), Some(&ada.access)).await;
    assert_eq!(verified["data"]["verifyEmail"]["user"]["emailVerified"], true, "{verified}");

    // Nothing at rest holds the code: not the history, not the delivery log, and the sealed copy
    // is gone once sent.
    let like = format!("%{secret}%");
    let db = &stack.subgraph("notifications").rt.db;
    let held: i64 = tessera_kit::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM notifications WHERE body LIKE $1 OR title LIKE $1) \
              + (SELECT COUNT(*) FROM deliveries WHERE preview LIKE $1 OR subject LIKE $1)"
    )
    .bind(&like)
    .fetch_one(pool)
    .await)
    .expect("counts");
    assert_eq!(held, 0);
    let sealed = sealed_for(&stack, ada.id).await;
    assert_eq!(sealed, 0, "a sent message is not kept");

    // Reading: one, then all; someone else's id looks missing.
    let bob = register(&stack, "bob").await;
    let list = gql(&stack, "{ myNotifications { edges { node { id } } } }", json!({}), Some(&ada.access)).await;
    let id = list["data"]["myNotifications"]["edges"][0]["node"]["id"].clone();
    let mark = "mutation($i: MarkNotificationReadInput!) { markNotificationRead(input: $i) { notification { read } unreadCount } }";
    let by_bob = gql(&stack, mark, json!({ "i": { "id": id } }), Some(&bob.access)).await;
    assert_eq!(code(&by_bob), "NOT_FOUND", "{by_bob}");
    let read = gql(&stack, mark, json!({ "i": { "id": id } }), Some(&ada.access)).await;
    assert_eq!(read["data"]["markNotificationRead"], json!({ "notification": { "read": true }, "unreadCount": 0 }));
    let all =
        gql(&stack, "mutation { markAllNotificationsRead { markedCount unreadCount } }", json!({}), Some(&ada.access))
            .await;
    assert_eq!(all["data"]["markAllNotificationsRead"], json!({ "markedCount": 0, "unreadCount": 0 }), "{all}");

    // A password change is a security alert: it is mailed, whatever the preferences say.
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { sessionsRevoked } }";
    let input =
        json!({ "i": { "currentPassword": common::PASSWORD, "newPassword": "amber lantern crossing quiet harbours" } });
    let changed = gql(&stack, change, input, Some(&ada.access)).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    eventually("the password-change alert arrives", || async {
        smtp.mails_to("ada@example.com").iter().any(|m| m.subject() == "Your Tessera password was changed")
    })
    .await;
}

#[tokio::test]
async fn a_refusing_smtp_server_gets_retries_then_a_dead_letter_and_everything_else_keeps_working() {
    let smtp = SmtpServer::start().await;
    smtp.refuse(true);
    let stack = stack_mailing_to(&smtp).await;
    let root = admin(&stack).await;
    let ada = register(&stack, "ada").await;

    let dead = "{ deliveries(status: FAILED) { totalCount edges { node { channel recipient subject preview attempts lastError } } } }";
    // The admin's own mails (welcome, new-device alert) fail the same way; look for ada's.
    let letters = || async {
        let body = gql(&stack, dead, json!({}), Some(&root)).await;
        let edges = body["data"]["deliveries"]["edges"].as_array().cloned().unwrap_or_default();
        (edges.into_iter().find(|e| e["node"]["recipient"] == "ada@example.com"), body)
    };
    eventually("ada's welcome email becomes a dead letter", || async { letters().await.0.is_some() }).await;
    let pending = "{ deliveries(status: PENDING) { totalCount } }";
    eventually("no mail is left pending", || async {
        gql(&stack, pending, json!({}), Some(&root)).await["data"]["deliveries"]["totalCount"] == 0
    })
    .await;
    let (letter, body) = letters().await;
    let letter = &letter.expect("ada's letter")["node"];
    assert_eq!(letter["channel"], "EMAIL", "{body}");
    assert_eq!(letter["recipient"], "ada@example.com");
    assert_eq!(letter["attempts"], 3, "three attempts, then given up: {body}");
    assert!(letter["lastError"].as_str().expect("an error").contains("451"), "{body}");
    assert!(letter["preview"].as_str().expect("a preview").contains("[redacted]"), "{body}");
    let total = body["data"]["deliveries"]["totalCount"].as_u64().expect("a count") as usize;
    assert_eq!(smtp.offered(), 3 * total, "the server saw each of the 3 attempts of every letter: {body}");
    let sealed = sealed_for(&stack, ada.id).await;
    assert_eq!(sealed, 0, "a dead letter keeps no copy of the code");

    // The rest works: the in-app copy is listed, ada signs in, a customer cannot read the log.
    let listed = gql(&stack, MY_NOTIFICATIONS, json!({}), Some(&ada.access)).await;
    assert_eq!(listed["data"]["myNotifications"]["totalCount"], 1, "{listed}");
    let login = common::login(&stack, "ada", common::PASSWORD).await;
    assert!(login["data"]["login"]["accessToken"].is_string(), "{login}");
    let refused = gql(&stack, dead, json!({}), Some(&ada.access)).await;
    assert!(refused["data"].is_null() || refused["data"]["deliveries"].is_null(), "{refused}");
    assert!(["FORBIDDEN", "UNAUTHORIZED"].contains(&code(&refused).as_str()), "{refused}");

    // Once the server accepts again, new mail flows.
    smtp.refuse(false);
    register(&stack, "bob").await;
    eventually("bob's welcome arrives", || async { smtp.mails_to("bob@example.com").len() == 1 }).await;
}

/// A sign-in through the router from a browser with this `User-Agent`.
async fn login_from(stack: &TestStack, user_agent: &str, identifier: &str) -> serde_json::Value {
    let body = json!({ "query": common::LOGIN, "variables": { "i": { "identifier": identifier, "password": common::PASSWORD } } });
    let res = reqwest::Client::new()
        .post(stack.router_url("/graphql"))
        .header("user-agent", user_agent)
        .json(&body)
        .send()
        .await
        .expect("the router answers");
    res.json().await.expect("a JSON body")
}

#[tokio::test]
async fn a_sign_in_from_a_new_browser_mails_the_owner_once_and_a_sign_in_from_a_known_one_mails_nobody() {
    let smtp = SmtpServer::start().await;
    let stack = stack_mailing_to(&smtp).await;
    register(&stack, "ada").await;
    eventually("the welcome email arrives", || async { smtp.mails_to("ada@example.com").len() == 1 }).await;
    let alerts = || {
        smtp.mails_to("ada@example.com")
            .into_iter()
            .filter(|m| m.subject() == "New sign-in to your Tessera account")
            .map(|m| m.decoded())
            .collect::<Vec<_>>()
    };

    let first = login_from(&stack, "Firefox/140 on a new laptop", "ada").await;
    assert!(first["data"]["login"]["accessToken"].is_string(), "{first}");
    eventually("the new-device alert arrives", || async { alerts().len() == 1 }).await;
    assert!(alerts()[0].contains("Firefox/140 on a new laptop"), "{}", alerts()[0]);

    // The same browser again, then a change of password as a marker that everything before it
    // has been delivered: still one alert.
    let again = login_from(&stack, "Firefox/140 on a new laptop", "ada@example.com").await;
    let access = again["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("{again}")).to_owned();
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { sessionsRevoked } }";
    let input =
        json!({ "i": { "currentPassword": common::PASSWORD, "newPassword": "amber lantern crossing quiet harbours" } });
    let changed = gql(&stack, change, input, Some(&access)).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    eventually("the password-change alert arrives", || async {
        smtp.mails_to("ada@example.com").iter().any(|m| m.subject() == "Your Tessera password was changed")
    })
    .await;
    assert_eq!(alerts().len(), 1, "a known browser is not announced");
}
