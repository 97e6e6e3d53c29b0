//! Journeys through the router: one query answered by three subgraphs, entity batching shown
//! by counting subgraph requests, and partial data when a subgraph is down.

mod common;

use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::on_db;
use tessera_testkit::{TestStack, graphql, spawn_stack};
use uuid::Uuid;

/// A user with an account (auth), a profile (users) and `orders` orders (orders).
async fn seed_user(stack: &TestStack, username: &str, orders: usize) -> (Uuid, Vec<Uuid>) {
    let user = Uuid::now_v7();
    let now = chrono::Utc::now();
    let auth = &stack.subgraph("auth").rt.db;
    on_db!(auth, |pool| sqlx::query("INSERT INTO accounts (id, email, username, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user)
        .bind(format!("{username}@example.com"))
        .bind(username)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("account");
    let users = &stack.subgraph("users").rt.db;
    on_db!(users, |pool| sqlx::query("INSERT INTO profiles (user_id, display_name, updated_at) VALUES ($1, $2, $3)")
        .bind(user)
        .bind(format!("{username} (display)"))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("profile");
    let orders_db = &stack.subgraph("orders").rt.db;
    let mut ids = Vec::new();
    for i in 0..orders {
        ids.push(tessera_testkit::orders::insert_order(orders_db, user, "CONFIRMED", 1000 + i as i64).await);
    }
    (user, ids)
}

#[tokio::test]
async fn one_query_is_answered_by_three_subgraphs() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (user, orders) = seed_user(&stack, "ada", 1).await;
    let query =
        format!("{{ order(id: \"{}\") {{ status totalCents user {{ id username displayName }} }} }}", orders[0]);
    let (status, body) =
        graphql(&stack.router_url("/graphql"), &query, Some(&common::token(&stack, user, &["customer"]).await)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "data": { "order": {
            "status": "CONFIRMED",
            "totalCents": 1000,
            "user": { "id": user.to_string(), "username": "ada", "displayName": "ada (display)" },
        } } })
    );
}

#[tokio::test]
async fn entities_are_fetched_in_one_batch_per_subgraph_with_duplicates_removed() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (user, _) = seed_user(&stack, "grace", 5).await;
    let token = common::token(&stack, user, &["customer"]).await;
    let before: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    let (_, body) = graphql(
        &stack.router_url("/graphql"),
        "{ myOrders { edges { node { id user { username displayName } } } } }",
        Some(&token),
    )
    .await;
    let orders = body["data"]["myOrders"]["edges"].as_array().unwrap_or_else(|| panic!("orders: {body}"));
    assert_eq!(orders.len(), 5);
    assert!(
        orders
            .iter()
            .all(|o| o["node"]["user"]["username"] == "grace" && o["node"]["user"]["displayName"] == "grace (display)"),
        "{body}"
    );
    let sent: Vec<(&str, usize)> = stack
        .subgraphs
        .iter()
        .zip(before)
        .map(|(s, b)| (s.name, s.request_count() - b))
        .filter(|(_, n)| *n > 0)
        .collect();
    // One root fetch to orders, then one `_entities` request each to auth and users for five
    // orders of one user: one representation, not five.
    assert_eq!(sent, vec![("auth", 1), ("users", 1), ("orders", 1)]);
}

#[tokio::test]
async fn a_stopped_subgraph_costs_only_its_fields_and_is_named_in_the_error() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (user, orders) = seed_user(&stack, "linus", 1).await;
    let token = common::token(&stack, user, &["customer"]).await;
    stack.subgraph("users").stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let query = format!("{{ order(id: \"{}\") {{ status user {{ username displayName }} }} }}", orders[0]);
    let (status, body) = graphql(&stack.router_url("/graphql"), &query, Some(&token)).await;
    assert_eq!(status, 200, "never a 500 for the whole request: {body}");
    assert_eq!(body["data"]["order"]["status"], "CONFIRMED", "{body}");
    assert_eq!(body["data"]["order"]["user"]["username"], "linus", "{body}");
    assert_eq!(body["data"]["order"]["user"]["displayName"], Value::Null, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{body}");
    assert_eq!(error["extensions"]["serviceName"], "users", "{body}");
    assert_eq!(error["path"], json!(["order", "user"]), "{body}");
}

#[tokio::test]
async fn the_router_composes_the_same_graph_from_live_subgraphs_as_the_committed_file() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let urls: Vec<(String, url::Url)> =
        stack.subgraphs.iter().map(|s| (s.name.to_owned(), url::Url::parse(&s.url("/")).expect("URL"))).collect();
    let live = tessera_router::compose::from_live(&tessera_router::Subgraphs::from_urls(urls)).await.expect("composes");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/supergraph.graphql")).expect("committed");
    // Only the URLs differ (port 0 here, the defaults in the file).
    let strip = |s: &str| s.lines().filter(|l| !l.contains("url: \"http")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&live), strip(&committed));
}

#[tokio::test]
async fn validation_errors_come_back_with_a_code_and_nothing_is_fetched() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let before: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    let (status, body) = graphql(&stack.router_url("/graphql"), "{ order { nope } }", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
    let after: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    assert_eq!(before, after, "no subgraph was called");
}

#[tokio::test]
async fn skip_and_include_follow_their_variables() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let query = "query($hide: Boolean!, $show: Boolean!) { signedIn @skip(if: $hide) t: validateToken(token: \"x\") @include(if: $show) { valid } }";
    let url = stack.router_url("/graphql");
    let (_, hidden) = tessera_testkit::graphql_with(&url, query, json!({ "hide": true, "show": false }), None).await;
    assert_eq!(hidden, json!({ "data": {} }));
    let (_, shown) = tessera_testkit::graphql_with(&url, query, json!({ "hide": false, "show": true }), None).await;
    assert_eq!(shown, json!({ "data": { "signedIn": false, "t": { "valid": false } } }));
}
