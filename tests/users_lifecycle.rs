//! The account lifecycle through the router: `exportMyData` gathers the user's data from every
//! subgraph for them alone, and `deleteMyAccount` ends sign-in and tokens at once and erases the
//! user from every store, which the test checks in each subgraph's own database.

mod common;

use common::{PASSWORD, code, count_in, eventually_profile, gql, login, notification, refresh, register, totp_secret};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_kit::on_db;
use tessera_testkit::{TestStack, eventually, graphql_with, spawn_stack};
use uuid::Uuid;

const DELETE: &str = "mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted sessionsRevoked } }";
const EXPORT: &str = "{ exportMyData { userId generatedAt \
    account { email username emailVerified phone mfaEnabled roles createdAt } \
    sessions { ip userAgent createdAt revokedAt } securityEvents { kind ip } \
    profile { displayName bio version } preferences { theme marketing { email } } \
    notifications { title body read } orders { totalCents currency status } } }";

/// Gives `user` something in every store: a profile change, settings, a notification, an order.
async fn fill(stack: &TestStack, user: Uuid, token: &str) {
    eventually_profile(stack, user).await;
    let profile = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { version } } }";
    let saved =
        gql(stack, profile, json!({ "i": { "expectedVersion": 1, "bio": "Counts things." } }), Some(token)).await;
    assert!(saved.get("errors").is_none(), "{saved}");
    let prefs = "mutation { updatePreferences(input: { theme: DARK }) { preferences { version } } }";
    assert!(gql(stack, prefs, json!({}), Some(token)).await.get("errors").is_none());
    let rt = &stack.subgraph("notifications").rt;
    tessera_notifications::deliver_in_app(rt, &notification(user, "Welcome")).await.expect("a notification");
    let orders = &stack.subgraph("orders").rt.db;
    tessera_testkit::orders::insert_order(orders, user, "CONFIRMED", 4200).await;
}

/// How many outbox rows of `subgraph` hold `needle` in their payload.
async fn outbox_mentions(stack: &TestStack, subgraph: &str, needle: &str) -> i64 {
    let db = &stack.subgraph(subgraph).rt.db;
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE payload LIKE $1")
        .bind(format!("%{needle}%"))
        .fetch_one(pool)
        .await)
    .expect("the outbox reads")
}

#[tokio::test]
async fn export_my_data_gathers_every_subgraphs_part_for_its_owner_only() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let bob = register(&stack, "bob").await;
    fill(&stack, ada.id, &ada.access).await;

    let body = gql(&stack, EXPORT, json!({}), Some(&ada.access)).await;
    assert!(body.get("errors").is_none(), "{body}");
    let export = &body["data"]["exportMyData"];
    assert_eq!(export["userId"], ada.id.to_string());
    assert_eq!(export["account"]["email"], "ada@example.com");
    assert_eq!(export["account"]["roles"], json!(["customer"]));
    assert_eq!(export["sessions"].as_array().map(Vec::len), Some(1), "the sign-in of registration: {export}");
    assert_eq!(export["securityEvents"][0]["kind"], "REGISTERED");
    assert_eq!(export["profile"], json!({ "displayName": "ada", "bio": "Counts things.", "version": 2 }));
    assert_eq!(export["preferences"]["theme"], "DARK");
    let notifications = export["notifications"].as_array().expect("a list");
    assert!(notifications.contains(&json!({ "title": "Welcome", "body": "body", "read": false })), "{export}");
    let six_digits = |s: &str| s.as_bytes().windows(6).any(|w| w.iter().all(u8::is_ascii_digit));
    assert!(notifications.iter().all(|n| !six_digits(n["body"].as_str().unwrap_or_default())), "no code: {export}");
    assert_eq!(export["orders"], json!([{ "totalCents": 4200, "currency": "EUR", "status": "CONFIRMED" }]));

    assert_eq!(code(&gql(&stack, EXPORT, json!({}), None).await), "UNAUTHENTICATED");
    // Bob asking each subgraph for Ada's export directly, past the router: refused by every one.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on DataExport { userId } } }";
    let reps = json!({ "r": [{ "__typename": "DataExport", "userId": ada.id }] });
    for subgraph in ["auth", "users", "notifications", "orders"] {
        let (_, direct) =
            graphql_with(&stack.subgraph(subgraph).url("/graphql"), entities, reps.clone(), Some(&bob.access)).await;
        assert_eq!(code(&direct), "FORBIDDEN", "{subgraph}: {direct}");
    }
}

#[tokio::test]
async fn a_deleted_account_cannot_sign_in_its_tokens_are_refused_and_every_store_forgets_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let bob = register(&stack, "bob").await;
    fill(&stack, ada.id, &ada.access).await;
    fill(&stack, bob.id, &bob.access).await;

    let wrong = gql(&stack, DELETE, json!({ "i": { "password": "not the password at all" } }), Some(&ada.access)).await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "password");
    assert_eq!(code(&gql(&stack, DELETE, json!({ "i": { "password": PASSWORD } }), None).await), "UNAUTHENTICATED");

    let deleted = gql(&stack, DELETE, json!({ "i": { "password": PASSWORD } }), Some(&ada.access)).await;
    assert_eq!(deleted["data"]["deleteMyAccount"], json!({ "deleted": true, "sessionsRevoked": 1 }), "{deleted}");

    // Sign-in, the access token and the refresh token are all refused.
    for identifier in ["ada", "ada@example.com"] {
        assert_eq!(code(&login(&stack, identifier, PASSWORD).await), "UNAUTHENTICATED");
    }
    eventually("the router refuses the deleted user's token", || async {
        code(&gql(&stack, "{ me { id } }", json!({}), Some(&ada.access)).await) == "UNAUTHENTICATED"
    })
    .await;
    assert_eq!(code(&refresh(&stack, &ada.refresh).await), "UNAUTHENTICATED");

    // Every store forgets Ada, each checked in its own database.
    let id = ada.id;
    eventually("every subgraph applied AccountDeleted", || async {
        count_in(&stack, "users", "SELECT COUNT(*) FROM profiles WHERE user_id = $1", id).await == 0
            && count_in(&stack, "notifications", "SELECT COUNT(*) FROM notifications WHERE user_id = $1", id).await == 0
            && count_in(&stack, "orders", "SELECT COUNT(*) FROM orders WHERE user_id = $1", id).await == 0
    })
    .await;
    for table in ["deliveries", "recipients"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1");
        assert_eq!(count_in(&stack, "notifications", &sql, id).await, 0, "notifications.{table} forgets her");
    }
    assert_eq!(count_in(&stack, "users", "SELECT COUNT(*) FROM preferences WHERE user_id = $1", id).await, 0);
    let anonymous = tessera_orders::store::ANONYMOUS;
    assert_eq!(
        count_in(&stack, "orders", "SELECT COUNT(*) FROM orders WHERE user_id = $1", anonymous).await,
        1,
        "the order is kept for accounting, without the person"
    );
    for table in ["sessions", "account_roles", "known_devices", "one_time_codes", "recovery_codes"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1");
        assert_eq!(count_in(&stack, "auth", &sql, id).await, 0, "auth.{table}");
    }
    // The tombstone's email and username are made of the id alone (whose hex may well spell
    // `ada`: a `LIKE '%ada%'` check would fail one run in a hundred).
    let email_left = "SELECT COUNT(*) FROM accounts WHERE id = $1 AND (email NOT LIKE 'deleted+%@deleted.invalid' \
                      OR username NOT LIKE 'deleted-%' OR password_hash <> '')";
    assert_eq!(count_in(&stack, "auth", email_left, id).await, 0, "the tombstone holds no personal data");
    let trail =
        "SELECT COUNT(*) FROM security_events WHERE account_id = $1 AND (kind <> 'ACCOUNT_DELETED' OR ip IS NOT NULL)";
    assert_eq!(count_in(&stack, "auth", trail, id).await, 0, "only the bare fact of the deletion stays");
    // Published events that named her are deleted; the ones announcing the deletion carry only
    // the id, which now points at nothing.
    eventually("published events naming Ada are gone", || async {
        outbox_mentions(&stack, "users", &id.to_string()).await == 0
            && outbox_mentions(&stack, "auth", "ada@example.com").await == 0
            && outbox_mentions(&stack, "auth", "\"ada\"").await == 0
    })
    .await;

    // Her token still verifies at the users subgraph itself (subgraphs do not see revocations):
    // straight there, past the router, it still cannot bring a profile back.
    let revive = "mutation { updateProfile(input: { expectedVersion: 0, bio: \"back\" }) { profile { version } } }";
    let (_, direct) =
        graphql_with(&stack.subgraph("users").url("/graphql"), revive, json!({}), Some(&ada.access)).await;
    assert_eq!(code(&direct), "UNAUTHENTICATED", "{direct}");
    assert_eq!(count_in(&stack, "users", "SELECT COUNT(*) FROM profiles WHERE user_id = $1", id).await, 0);

    // Bob is untouched, and the name is free again.
    assert_eq!(count_in(&stack, "users", "SELECT COUNT(*) FROM profiles WHERE user_id = $1", bob.id).await, 1);
    assert_eq!(
        count_in(
            &stack,
            "notifications",
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND body = 'body'",
            bob.id
        )
        .await,
        1
    );
    let bob_me = gql(&stack, "{ me { username profile { bio } } }", json!({}), Some(&bob.access)).await;
    assert_eq!(bob_me["data"]["me"], json!({ "username": "bob", "profile": { "bio": "Counts things." } }), "{bob_me}");
    register(&stack, "ada").await;
}

#[tokio::test]
async fn with_two_factor_sign_in_on_deleting_the_account_also_needs_a_second_factor() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let enrolled = gql(&stack, "mutation { enrollTotp { secret } }", json!({}), Some(&ada.access)).await;
    let secret = totp_secret(enrolled["data"]["enrollTotp"]["secret"].as_str().unwrap_or_else(|| panic!("{enrolled}")));
    let now = u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970");
    let confirm = "mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes } }";
    let confirmed = gql(
        &stack,
        confirm,
        json!({ "i": { "code": tessera_auth::domain::totp::code_at(&secret, now - 30) } }),
        Some(&ada.access),
    )
    .await;
    let recovery = confirmed["data"]["confirmTotp"]["recoveryCodes"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{confirmed}"))
        .to_owned();

    let password_only = gql(&stack, DELETE, json!({ "i": { "password": PASSWORD } }), Some(&ada.access)).await;
    assert_eq!(password_only["errors"][0]["extensions"]["field"], "mfaCode", "{password_only}");
    let wrong =
        gql(&stack, DELETE, json!({ "i": { "password": PASSWORD, "mfaCode": "000000" } }), Some(&ada.access)).await;
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "mfaCode", "{wrong}");
    assert_eq!(
        count_in(&stack, "auth", "SELECT COUNT(*) FROM accounts WHERE id = $1 AND deleted_at IS NULL", ada.id).await,
        1
    );

    let deleted =
        gql(&stack, DELETE, json!({ "i": { "password": PASSWORD, "mfaCode": recovery } }), Some(&ada.access)).await;
    assert_eq!(deleted["data"]["deleteMyAccount"]["deleted"], true, "{deleted}");
}
