//! Secrets that never rest or travel in clear, end to end: the codes and tokens of a reset on the
//! Redis stream and in every outbox, and the TOTP secrets, signing seeds and code key at rest.

mod common;

use common::{enable_totp, gql, register};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, spawn_configured, test_bus};

/// Router budgets off: these tests are about storage, not throttling.
fn unthrottled(c: &mut tessera_kit::config::Config) {
    c.router.rate_limit.per_ip.per_second = 0.0;
    c.router.rate_limit.per_user.per_second = 0.0;
}

/// Every row of every subgraph's outbox, as a dump would show it.
async fn every_outbox(stack: &TestStack) -> String {
    let mut dump = String::new();
    for name in ["auth", "users", "products", "orders", "notifications"] {
        let db = &stack.subgraph(name).rt.db;
        let rows: Vec<String> =
            tessera_kit::on_db!(db, |pool| sqlx::query_scalar("SELECT payload FROM outbox").fetch_all(pool).await)
                .expect("the outbox reads");
        dump.push_str(&rows.join("\n"));
    }
    dump
}

#[tokio::test]
async fn during_a_reset_the_redis_stream_and_every_outbox_hold_no_token_or_code_in_clear() {
    let Some(redis) = tessera_testkit::redis_server::RedisServer::start().await else {
        eprintln!("skipped: redis-server is not installed (.ci/run installs it)");
        return;
    };
    let namespace = format!("sealed-{}", uuid::Uuid::now_v7().simple());
    let bus = tessera_kit::bus::Bus::connect(Some(&redis.url()), &namespace).await.expect("connects");
    let stack = spawn_configured(&SUBGRAPHS, bus, unthrottled).await;
    let ada = register(&stack, "ada").await;
    let request = "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }";
    gql(&stack, request, json!({ "i": { "email": "ada@example.com" } }), None).await;
    let otp = "mutation($i: RequestOtpInput!) { requestOtp(input: $i) { sentTo } }";
    gql(&stack, otp, json!({ "i": { "purpose": "STEP_UP", "channel": "EMAIL" } }), Some(&ada.access)).await;

    // The secrets as the user receives them: the email still carries each.
    let token = common::secret_sent(&stack, "or enter this token: ", 1).await;
    let code = common::secret_sent(&stack, "one-time code is ", 1).await;
    let verification = common::secret_sent(&stack, "Your verification code is ", 1).await;
    let stream = std::process::Command::new("redis-cli")
        .args(["-u", &redis.url(), "--no-raw", "XRANGE", &format!("{namespace}:events"), "-", "+"])
        .output()
        .expect("redis-cli runs");
    let stream = String::from_utf8_lossy(&stream.stdout).into_owned();
    assert!(stream.contains("PasswordResetRequested") && stream.contains("sealed:v1:"), "{stream}");
    let outboxes = every_outbox(&stack).await;
    for secret in [&token, &code, &verification] {
        assert!(!stream.contains(secret.as_str()), "the stream holds {secret} in clear");
        assert!(!outboxes.contains(secret.as_str()), "an outbox holds {secret} in clear");
    }
}

#[tokio::test]
async fn totp_secrets_signing_seeds_and_the_code_key_rest_only_sealed_and_older_raw_rows_are_sealed_at_start() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, unthrottled).await;
    let ada = register(&stack, "ada").await;
    let secret = enable_totp(&stack, &ada.access).await;
    let rt = &stack.subgraph("auth").rt;
    let db = &rt.db;
    let read = |sql: &'static str| async move {
        tessera_kit::on_db!(db, |pool| sqlx::query_scalar::<_, Vec<u8>>(sql).fetch_all(pool).await).expect("reads")
    };
    let totp = read("SELECT totp_secret FROM accounts WHERE totp_secret IS NOT NULL").await;
    assert_eq!(totp.len(), 1);
    assert!(totp[0].len() > 20 && !totp[0].windows(secret.len()).any(|w| w == secret), "the TOTP secret is sealed");
    let current = tessera_auth::KeyRing::open(rt).await.expect("the ring").current();
    let seed = current.seed();
    for stored in read("SELECT seed FROM signing_keys").await {
        assert!(stored.len() > 32 && !stored.windows(32).any(|w| w == seed.as_slice()), "seeds are sealed");
    }
    let state = tessera_auth::State::open(rt.clone()).await.expect("auth state");
    let code_key = state.code_key.bytes();
    for stored in read("SELECT value FROM server_secrets").await {
        assert!(
            stored.len() > 32 && !stored.windows(32).any(|w| w == code_key.as_slice()),
            "server secrets are sealed"
        );
    }

    // A database from before: a raw secret is read as it is, then sealed in place at start.
    let raw = vec![7u8; 20];
    tessera_kit::on_db!(db, |pool| sqlx::query("UPDATE accounts SET totp_secret = $1 WHERE id = $2")
        .bind(&raw)
        .bind(ada.id)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("writes");
    let vault = tessera_auth::vault::open(rt).await.expect("opens");
    let sealed = read("SELECT totp_secret FROM accounts WHERE totp_secret IS NOT NULL").await.remove(0);
    assert_ne!(sealed, raw, "sealed at start");
    assert_eq!(tessera_auth::vault::open_totp(&vault, ada.id, &sealed).expect("opens"), raw);
}
