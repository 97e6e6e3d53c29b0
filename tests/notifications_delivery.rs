//! Delivery guarantees and choices: a bus outage loses and doubles nothing, marketing reaches
//! only those who opted in, admins write to raw addresses and numbers (SMS by webhook), bad input
//! names its fields, and without SMTP mail lands as `.eml` files a developer can open.

mod common;

use std::sync::{Arc, Mutex};

use common::{admin, code, count_in, gql, register};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_kit::{bus::Bus, config::SecretUrl};
use tessera_testkit::{
    eventually, redis_server::RedisServer, smtp::SmtpServer, spawn_configured, spawn_stack, test_bus,
};

const SEND: &str = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { suppressed delivery { channel recipient status } } }";

#[tokio::test]
async fn with_redis_stopped_while_events_are_produced_every_notification_arrives_once_when_it_returns() {
    let Some(mut redis) = RedisServer::start().await else {
        eprintln!("skipped: redis-server is not installed (.ci/run installs it)");
        return;
    };
    let bus = Bus::connect(Some(&redis.url()), "outage").await.expect("connects");
    let smtp = SmtpServer::start().await;
    let url = SecretUrl::parse(&smtp.url()).expect("a URL");
    let stack = spawn_configured(&SUBGRAPHS, bus, move |c| {
        c.delivery.smtp_url = Some(url);
        c.delivery.first_retry_ms = 100;
    })
    .await;
    let ada = register(&stack, "ada").await;
    eventually("ada's welcome arrives", || async { smtp.mails_to("ada@example.com").len() == 1 }).await;

    redis.stop();
    let names = ["bob", "cyd", "dee"];
    let mut users = Vec::new();
    for name in names {
        users.push(register(&stack, name).await);
    }
    let reset = "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }";
    gql(&stack, reset, json!({ "i": { "email": "ada@example.com" } }), None).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.mails().len(), 1, "nothing can pass while the bus is down");

    assert!(redis.restart().await, "redis comes back");
    eventually("every mail arrives", || async { smtp.mails().len() == 1 + names.len() + 1 }).await;
    // Give a duplicate every chance to show up before counting.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for name in names {
        assert_eq!(smtp.mails_to(&format!("{name}@example.com")).len(), 1, "{name}: one welcome, not two");
    }
    assert_eq!(smtp.mails_to("ada@example.com").len(), 2, "the welcome and one reset");
    for user in &users {
        let n =
            count_in(&stack, "notifications", "SELECT COUNT(*) FROM notifications WHERE user_id = $1", user.id).await;
        assert_eq!(n, 1, "one in-app welcome each");
    }
    assert_eq!(
        count_in(&stack, "notifications", "SELECT COUNT(*) FROM notifications WHERE user_id = $1", ada.id).await,
        2
    );
}

/// An SMS provider's endpoint on 127.0.0.1: keeps each request's `Authorization` and body.
async fn sms_webhook() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                kept.lock().expect("lock").push((auth, body));
                "queued"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("http://{}/send", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn admins_reach_users_and_raw_recipients_and_marketing_reaches_only_those_who_opted_in() {
    let smtp = SmtpServer::start().await;
    let (hook, texts) = sms_webhook().await;
    let (smtp_url, hook_url) = (SecretUrl::parse(&smtp.url()).expect("URL"), SecretUrl::parse(&hook).expect("URL"));
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.delivery.smtp_url = Some(smtp_url);
        c.delivery.sms.webhook_url = Some(hook_url);
        c.delivery.sms.auth_header = Some("Bearer sms-key".into());
    })
    .await;
    let root = admin(&stack).await;
    let (ada, bob) = (register(&stack, "ada").await, register(&stack, "bob").await);
    let prefs = "mutation($i: UpdatePreferencesInput!) { updatePreferences(input: $i) { preferences { version } } }";
    gql(&stack, prefs, json!({ "i": { "marketing": { "email": true } } }), Some(&ada.access)).await;
    eventually("the notifications subgraph has ada's choice", || async {
        count_in(&stack, "notifications", "SELECT COUNT(*) FROM recipients WHERE user_id = $1 AND version >= 1", ada.id)
            .await
            == 1
    })
    .await;

    let offer = |user: uuid::Uuid| json!({ "i": { "userId": user, "channel": "EMAIL", "subject": "Winter sale", "message": "20% off.", "marketing": true } });
    let to_ada = gql(&stack, SEND, offer(ada.id), Some(&root)).await;
    assert_eq!(to_ada["data"]["sendNotification"]["suppressed"], false, "{to_ada}");
    let to_bob = gql(&stack, SEND, offer(bob.id), Some(&root)).await;
    assert_eq!(
        to_bob["data"]["sendNotification"],
        json!({ "suppressed": true, "delivery": null }),
        "bob never opted in"
    );
    eventually("ada's offer arrives", || async {
        smtp.mails_to("ada@example.com").iter().any(|m| m.subject() == "Winter sale")
    })
    .await;
    assert!(smtp.mails_to("bob@example.com").iter().all(|m| m.subject() != "Winter sale"));

    // Raw recipients: the seeds' sendEmail and sendSMS.
    let email = json!({ "i": { "recipient": "press@example.org", "channel": "EMAIL", "subject": "Hello", "message": "A note." } });
    let sent = gql(&stack, SEND, email, Some(&root)).await;
    assert_eq!(sent["data"]["sendNotification"]["delivery"]["recipient"], "press@example.org", "{sent}");
    let sms = json!({ "i": { "recipient": "+33612345678", "channel": "SMS", "subject": "Hi", "message": "Your parcel \"42\" left." } });
    gql(&stack, SEND, sms, Some(&root)).await;
    eventually("the raw email arrives", || async { smtp.mails_to("press@example.org").len() == 1 }).await;
    eventually("the SMS reaches the provider", || async { texts.lock().expect("lock").len() == 1 }).await;
    let (auth, body) = texts.lock().expect("lock")[0].clone();
    assert_eq!(auth, "Bearer sms-key");
    let body: serde_json::Value = serde_json::from_str(&body).expect("the template makes JSON");
    assert_eq!(body, json!({ "to": "+33612345678", "body": "Your parcel \"42\" left." }));

    // A user's SMS needs the phone auth verified: before, refused; after, sent to that number.
    let to_ada_by_sms = json!({ "i": { "userId": ada.id, "channel": "SMS", "subject": "Hi", "message": "By text." } });
    let refused = gql(&stack, SEND, to_ada_by_sms.clone(), Some(&root)).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "channel", "{refused}");
    let otp = "mutation($i: RequestOtpInput!) { requestOtp(input: $i) { sentTo } }";
    let phone = json!({ "i": { "purpose": "VERIFY_PHONE", "channel": "SMS", "destination": "+14155550123" } });
    assert!(gql(&stack, otp, phone, Some(&ada.access)).await.get("errors").is_none());
    eventually("the code goes out by SMS", || async { texts.lock().expect("lock").len() == 2 }).await;
    let (_, sms) = texts.lock().expect("lock")[1].clone();
    let sms: serde_json::Value = serde_json::from_str(&sms).expect("JSON");
    assert_eq!(sms["to"], "+14155550123");
    let text = sms["body"].as_str().expect("a text");
    let digits: String = text.split("code is ").nth(1).expect("a code").chars().take(6).collect();
    let verify = "mutation($i: VerifyOtpInput!) { verifyOtp(input: $i) { verified } }";
    let verified =
        gql(&stack, verify, json!({ "i": { "purpose": "VERIFY_PHONE", "code": digits } }), Some(&ada.access)).await;
    assert_eq!(verified["data"]["verifyOtp"]["verified"], true, "{verified}");
    eventually("notifications learns the number", || async {
        let sent = gql(&stack, SEND, to_ada_by_sms.clone(), Some(&root)).await;
        sent["data"]["sendNotification"]["delivery"]["recipient"] == "+14155550123"
    })
    .await;
    eventually("the SMS reaches ada's phone", || async { texts.lock().expect("lock").len() == 3 }).await;

    // Bad input names every bad field; customers cannot send at all.
    let bad = json!({ "i": { "recipient": "not-an-address", "channel": "EMAIL", "subject": " ", "message": "" } });
    let refused = gql(&stack, SEND, bad, Some(&root)).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let fields: Vec<&str> = refused["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["subject", "message", "recipient"], "{refused}");
    // The router checks variables first: a missing non-null field is refused there, while one
    // with a default (`marketing: Boolean! = false`) may be left out, as everywhere above.
    let missing = json!({ "i": { "userId": ada.id, "channel": "IN_APP", "message": "no subject" } });
    let refused = gql(&stack, SEND, missing, Some(&root)).await;
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("SendNotificationInput.subject is required"), "{refused}");
    let both = json!({ "i": { "userId": ada.id, "recipient": "+33612345678", "channel": "SMS", "subject": "x", "message": "y" } });
    assert_eq!(code(&gql(&stack, SEND, both, Some(&root)).await), "BAD_USER_INPUT");
    let by_customer = gql(&stack, SEND, offer(bob.id), Some(&ada.access)).await;
    assert!(by_customer["data"].is_null() || by_customer["data"]["sendNotification"].is_null(), "{by_customer}");
    assert!(["FORBIDDEN", "UNAUTHORIZED"].contains(&code(&by_customer).as_str()), "{by_customer}");
}

#[tokio::test]
async fn without_smtp_a_developer_finds_the_welcome_code_in_an_eml_file_under_the_data_dir() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    register(&stack, "ada").await;
    let dir = stack.config.data_dir.join("mail");
    eventually("a .eml file is written", || async { std::fs::read_dir(&dir).map(|d| d.count() == 1).unwrap_or(false) })
        .await;
    let file = std::fs::read_dir(&dir).expect("the sink").next().expect("a file").expect("readable").path();
    assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
    let eml = std::fs::read_to_string(&file).expect("text");
    assert!(eml.contains("To: ada@example.com"), "{eml}");
    assert!(eml.contains("Your verification code is "), "{eml}");
}
