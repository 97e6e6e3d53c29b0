//! The users subgraph through the router: the profile and its validation, optimistic locking,
//! preferences, and the `User` entity joined from auth and users.

mod common;

use common::{account, code, gql, register};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, spawn_stack};

const UPDATE: &str = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { displayName bio avatarUrl locale timezone version } user { id username displayName } } }";
const PREFS: &str = "mutation($i: UpdatePreferencesInput!) { updatePreferences(input: $i) { preferences { theme language version marketing { email sms inApp } securityAlerts { email sms inApp } orderUpdates { email sms inApp } } } }";

/// The users subgraph's outbox payloads of `kind`.
async fn users_events(stack: &TestStack, kind: &str) -> Vec<Value> {
    let db = &stack.subgraph("users").rt.db;
    let rows: Vec<String> = tessera_kit::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE kind = $1 ORDER BY created_at, id"
    )
    .bind(kind)
    .fetch_all(pool)
    .await)
    .expect("the outbox reads");
    rows.iter().map(|r| serde_json::from_str::<Value>(r).expect("JSON")["payload"].clone()).collect()
}

/// The caller's profile version, once `AccountRegistered` has created the profile.
async fn created(stack: &TestStack, token: &str) -> i64 {
    for _ in 0..200 {
        let body = gql(stack, "{ me { profile { version } } }", json!({}), Some(token)).await;
        let version = body["data"]["me"]["profile"]["version"].as_i64().unwrap_or(0);
        if version > 0 {
            return version;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the profile was never created from AccountRegistered");
}

#[tokio::test]
async fn a_profile_without_a_token_is_refused_as_unauthenticated() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let body = gql(&stack, "{ me { id profile { displayName } } }", json!({}), None).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let update = gql(&stack, UPDATE, json!({ "i": { "expectedVersion": 0, "bio": "hi" } }), None).await;
    assert_eq!(code(&update), "UNAUTHENTICATED", "{update}");
}

#[tokio::test]
async fn a_signed_in_user_gets_their_details_joined_from_auth_and_users() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    created(&stack, &ada.access).await;
    let body = gql(
        &stack,
        "{ me { id username email displayName avatarUrl profile { displayName bio locale timezone version } \
           preferences { theme language marketing { email } securityAlerts { email inApp } } } }",
        json!({}),
        Some(&ada.access),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let mut me = body["data"]["me"].clone();
    assert_eq!(me["id"], ada.id.to_string());
    me["id"] = json!("[id]");
    insta::assert_json_snapshot!(me, @r#"
    {
      "id": "[id]",
      "username": "ada",
      "email": "ada@example.com",
      "displayName": "ada",
      "avatarUrl": null,
      "profile": {
        "displayName": "ada",
        "bio": null,
        "locale": null,
        "timezone": null,
        "version": 1
      },
      "preferences": {
        "theme": "SYSTEM",
        "language": null,
        "marketing": {
          "email": false
        },
        "securityAlerts": {
          "email": true,
          "inApp": true
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_user_whose_registration_event_has_not_arrived_gets_defaults_not_an_error() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    // An account written straight into auth: no AccountRegistered, so no profile row.
    let (_, token) = account(&stack, "early").await;
    let body = gql(
        &stack,
        "{ me { displayName profile { version updatedAt } preferences { version } } }",
        json!({}),
        Some(&token),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["me"],
        json!({ "displayName": null, "profile": { "version": 0, "updatedAt": null }, "preferences": { "version": 0 } })
    );
    // And the first save, at version 0, creates the profile.
    let saved =
        gql(&stack, UPDATE, json!({ "i": { "expectedVersion": 0, "displayName": "Early Bird" } }), Some(&token)).await;
    assert_eq!(saved["data"]["updateProfile"]["profile"]["version"], 1, "{saved}");
}

#[tokio::test]
async fn an_update_with_bad_input_is_refused_naming_every_bad_field_and_changes_nothing() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let version = created(&stack, &ada.access).await;
    let bad = json!({ "i": {
        "expectedVersion": version,
        "displayName": "",
        "bio": "fine",
        "avatarUrl": "javascript:alert(1)",
        "locale": "xx-QQ",
        "timezone": "Mars/Olympus",
    } });
    let body = gql(&stack, UPDATE, bad, Some(&ada.access)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["displayName", "avatarUrl", "locale", "timezone"]);
    assert_eq!(body["errors"][0]["extensions"]["field"], "displayName");
    let after = gql(&stack, "{ me { profile { bio version } } }", json!({}), Some(&ada.access)).await;
    assert_eq!(after["data"]["me"]["profile"], json!({ "bio": null, "version": version }), "nothing was saved");
    assert!(users_events(&stack, "ProfileUpdated").await.is_empty());
}

#[tokio::test]
async fn a_good_update_returns_the_updated_profile_and_emits_profile_updated() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let version = created(&stack, &ada.access).await;
    let input = json!({ "i": {
        "expectedVersion": version,
        "displayName": "  Ada Lovelace ",
        "bio": "Analyst.\nPoet of science.",
        "avatarUrl": "https://cdn.example.com/ada.png",
        "locale": "en-gb",
        "timezone": "Europe/London",
    } });
    let body = gql(&stack, UPDATE, input, Some(&ada.access)).await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["updateProfile"];
    assert_eq!(
        payload["profile"],
        json!({
            "displayName": "Ada Lovelace",
            "bio": "Analyst.\nPoet of science.",
            "avatarUrl": "https://cdn.example.com/ada.png",
            "locale": "en-GB",
            "timezone": "Europe/London",
            "version": version + 1,
        })
    );
    assert_eq!(payload["user"]["username"], "ada", "the payload's user is joined from auth too");
    let events = users_events(&stack, "ProfileUpdated").await;
    assert_eq!(
        events,
        [
            json!({ "userId": ada.id, "version": version + 1, "fields": ["displayName", "bio", "avatarUrl", "locale", "timezone"] })
        ]
    );
    // null clears one field and leaves the rest.
    let cleared =
        gql(&stack, UPDATE, json!({ "i": { "expectedVersion": version + 1, "bio": null } }), Some(&ada.access)).await;
    assert_eq!(cleared["data"]["updateProfile"]["profile"]["bio"], Value::Null, "{cleared}");
    assert_eq!(cleared["data"]["updateProfile"]["profile"]["displayName"], "Ada Lovelace");
}

#[tokio::test]
async fn of_two_concurrent_updates_with_the_same_version_exactly_one_wins() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let version = created(&stack, &ada.access).await;
    let send = |bio: &'static str| {
        let stack = &stack;
        let token = ada.access.clone();
        async move { gql(stack, UPDATE, json!({ "i": { "expectedVersion": version, "bio": bio } }), Some(&token)).await }
    };
    let (a, b) = tokio::join!(send("first"), send("second"));
    let (won, lost) = if a.get("errors").is_none() { (a, b) } else { (b, a) };
    assert!(won.get("errors").is_none(), "one wins: {won}");
    assert_eq!(code(&lost), "VERSION_CONFLICT", "{lost}");
    assert_eq!(lost["errors"][0]["extensions"]["currentVersion"], version + 1, "{lost}");
    let bio = won["data"]["updateProfile"]["profile"]["bio"].clone();
    let now = gql(&stack, "{ me { profile { bio version } } }", json!({}), Some(&ada.access)).await;
    assert_eq!(
        now["data"]["me"]["profile"],
        json!({ "bio": bio, "version": version + 1 }),
        "the winner's change stands"
    );
    assert_eq!(users_events(&stack, "ProfileUpdated").await.len(), 1);
}

#[tokio::test]
async fn preferences_change_partially_emit_their_whole_document_and_security_alerts_stay_on() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let body = gql(
        &stack,
        PREFS,
        json!({ "i": { "marketing": { "email": true }, "theme": "DARK", "language": "fr-ca", "securityAlerts": { "sms": true } } }),
        Some(&ada.access),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    insta::assert_json_snapshot!(body["data"]["updatePreferences"]["preferences"], @r#"
    {
      "theme": "DARK",
      "language": "fr-CA",
      "version": 1,
      "marketing": {
        "email": true,
        "sms": false,
        "inApp": false
      },
      "securityAlerts": {
        "email": true,
        "sms": true,
        "inApp": true
      },
      "orderUpdates": {
        "email": true,
        "sms": false,
        "inApp": true
      }
    }
    "#);
    let off = gql(&stack, PREFS, json!({ "i": { "securityAlerts": { "email": false } } }), Some(&ada.access)).await;
    assert_eq!(code(&off), "BAD_USER_INPUT", "{off}");
    assert_eq!(off["errors"][0]["extensions"]["field"], "securityAlerts.email");
    let bad = gql(&stack, PREFS, json!({ "i": { "language": "klingonese" } }), Some(&ada.access)).await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "language", "{bad}");
    let events = users_events(&stack, "PreferencesChanged").await;
    assert_eq!(events.len(), 1, "refused changes emit nothing");
    assert_eq!(events[0]["version"], 1);
    assert_eq!(events[0]["channels"]["marketing"], json!({ "email": true, "sms": false, "inApp": false }));
    assert_eq!(events[0]["theme"], "DARK");
}
