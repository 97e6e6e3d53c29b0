//! Who sees what of a user, through the router: the public part for anyone, private fields for
//! the user and admins only (refused per field, the rest of the answer intact), and the admin
//! directory, each rule tried by someone it must stop.

mod common;

use common::{admin, code, gql, register};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{graphql_with, spawn_stack};

const USER: &str = "query($id: ID!) { user(id: $id) { id username displayName avatarUrl email profile { bio } preferences { theme } } }";
const USERS: &str = "query($first: Int, $after: String, $search: String, $role: String) { \
    users(first: $first, after: $after, search: $search, role: $role) { totalCount \
      pageInfo { hasNextPage endCursor } edges { cursor node { username displayName email roles } } } }";

/// The error codes of a response, by the path they point at.
fn refusals(body: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let path: Vec<String> =
                        e["path"].as_array().into_iter().flatten().map(|p| p.to_string().replace('"', "")).collect();
                    (path.join("."), e["extensions"]["code"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn one_user_reading_anothers_private_fields_is_refused_per_field_and_keeps_the_public_part() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let bob = register(&stack, "bob").await;
    let vars = json!({ "id": ada.id });
    common::eventually_profile(&stack, ada.id).await;

    let body = gql(&stack, USER, vars.clone(), Some(&bob.access)).await;
    let user = &body["data"]["user"];
    assert_eq!((user["username"].as_str(), user["displayName"].as_str()), (Some("ada"), Some("ada")), "{body}");
    assert_eq!((&user["email"], &user["profile"], &user["preferences"]), (&Value::Null, &Value::Null, &Value::Null));
    assert_eq!(
        refusals(&body),
        [
            ("user.email".to_owned(), "FORBIDDEN".to_owned()),
            ("user.preferences".to_owned(), "FORBIDDEN".to_owned()),
            ("user.profile".to_owned(), "FORBIDDEN".to_owned()),
        ]
    );

    // Anonymous: the router refuses the private fields itself, the public part still answers.
    let anonymous = gql(&stack, USER, vars.clone(), None).await;
    assert_eq!(anonymous["data"]["user"]["username"], "ada", "{anonymous}");
    assert!(refusals(&anonymous).iter().all(|(_, code)| code == "UNAUTHENTICATED"), "{anonymous}");
    assert_eq!(refusals(&anonymous).len(), 3, "{anonymous}");

    // Straight to the users subgraph's `_entities`, past the router: still refused.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { profile { bio } preferences { theme } } } }";
    let (_, direct) = graphql_with(
        &stack.subgraph("users").url("/graphql"),
        entities,
        json!({ "r": [{ "__typename": "User", "id": ada.id }] }),
        Some(&bob.access),
    )
    .await;
    assert_eq!(code(&direct), "FORBIDDEN", "{direct}");

    // The user and an admin read it all.
    for token in [&ada.access, &admin(&stack).await] {
        let full = gql(&stack, USER, vars.clone(), Some(token)).await;
        assert!(full.get("errors").is_none(), "{full}");
        assert_eq!(full["data"]["user"]["email"], "ada@example.com");
        assert_eq!(full["data"]["user"]["preferences"]["theme"], "SYSTEM");
    }
}

#[tokio::test]
async fn a_customer_listing_users_is_refused_by_the_router_and_by_the_subgraph() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let eve = register(&stack, "eve").await;
    let before = stack.subgraph("auth").request_count();
    let body = gql(&stack, USERS, json!({}), Some(&eve.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(stack.subgraph("auth").request_count(), before, "the router refused before calling auth");
    assert_eq!(code(&gql(&stack, USERS, json!({}), None).await), "UNAUTHENTICATED");
    let direct_query = "{ users { totalCount edges { node { email } } } }";
    let (_, direct) =
        graphql_with(&stack.subgraph("auth").url("/graphql"), direct_query, json!({}), Some(&eve.access)).await;
    assert_eq!(code(&direct), "FORBIDDEN", "{direct}");
}

#[tokio::test]
async fn an_admin_lists_users_by_search_and_role_one_stable_page_at_a_time() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let root = admin(&stack).await;
    for name in ["anna", "annette", "bob", "joanna", "zed"] {
        register(&stack, name).await;
    }
    common::eventually_profile(&stack, register(&stack, "hannah").await.id).await;

    // "ann" is in anna, annette, joanna and hannah: two pages of 2 and one of... in id order.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = gql(&stack, USERS, json!({ "first": 2, "after": after, "search": "ANN" }), Some(&root)).await;
        assert!(body.get("errors").is_none(), "{body}");
        let page = &body["data"]["users"];
        assert_eq!(page["totalCount"], 4, "the total covers every page");
        for edge in page["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["username"].as_str().expect("username").to_owned());
            assert_eq!(edge["node"]["roles"], json!(["customer"]));
            assert_eq!(edge["node"]["displayName"], edge["node"]["username"], "joined from the users subgraph");
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["anna", "annette", "joanna", "hannah"], "registration order, each once");

    let admins = gql(&stack, USERS, json!({ "role": "admin" }), Some(&root)).await;
    let names: Vec<&str> = admins["data"]["users"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["email"].as_str())
        .collect();
    assert_eq!(names, ["root@example.com"], "{admins}");

    let literal = gql(&stack, USERS, json!({ "search": "%" }), Some(&root)).await;
    assert_eq!(literal["data"]["users"]["totalCount"], 0, "a % in a search is a character, not a wildcard");
    let too_many = gql(&stack, USERS, json!({ "first": 101 }), Some(&root)).await;
    assert_eq!(code(&too_many), "BAD_USER_INPUT");
    let bad_cursor = gql(&stack, USERS, json!({ "after": "nope" }), Some(&root)).await;
    assert_eq!(bad_cursor["errors"][0]["extensions"]["field"], "after");
}
