//! Entity batching, counted: a query for 200 users' profiles reaches the users subgraph as one
//! `_entities` request, and that request costs one SQL statement on the profiles table.
//!
//! Statements are counted from sqlx's own log events (`sqlx::query`, one per statement run), so
//! nothing in production code exists for this test. The counting subscriber is process-global,
//! which is why this file holds a single test.

mod common;

use std::sync::{Arc, Mutex};

use common::gql;
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::on_db;
use tessera_testkit::{TestStack, spawn_stack};
use tracing::field::{Field, Visit};
use tracing_subscriber::{Layer, layer::SubscriberExt};
use uuid::Uuid;

/// Every SQL statement any pool in this process runs, as sqlx logs it.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        struct Text(String);
        impl Visit for Text {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if matches!(field.name(), "summary" | "db.statement") {
                    self.0.push_str(&format!("{value:?} "));
                }
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        self.0.lock().expect("statements lock").push(text.0);
    }
}

impl Statements {
    fn matching(&self, needle: &str) -> usize {
        self.0.lock().expect("statements lock").iter().filter(|s| s.contains(needle)).count()
    }
}

const USERS: usize = 200;

/// `USERS` accounts in auth and their profiles in users, written directly: the setup is not
/// what this test measures.
async fn seed(stack: &TestStack) {
    let now = chrono::Utc::now();
    let auth = &stack.subgraph("auth").rt.db;
    let users = &stack.subgraph("users").rt.db;
    for i in 0..USERS {
        let id = Uuid::now_v7();
        on_db!(auth, |pool| sqlx::query(
            "INSERT INTO accounts (id, email, username, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(format!("user{i}@example.com"))
        .bind(format!("user{i}"))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .expect("an account");
        on_db!(users, |pool| sqlx::query(
            "INSERT INTO profiles (user_id, display_name, updated_at) VALUES ($1, $2, $3)"
        )
        .bind(id)
        .bind(format!("User {i}"))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .expect("a profile");
    }
}

const TWO_PAGES: &str = "query($after: String) { \
    first: users(first: 100) { edges { node { username displayName avatarUrl } } } \
    second: users(first: 100, after: $after) { edges { node { username displayName avatarUrl } } } }";

#[tokio::test]
async fn a_query_for_200_users_profiles_costs_one_entities_request_to_users_and_one_sql_statement() {
    let statements = Statements::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(statements.clone()))
        .expect("the only subscriber in this test binary");
    let stack = spawn_stack(&SUBGRAPHS).await;
    seed(&stack).await;
    let admin = common::token(&stack, Uuid::now_v7(), &["admin", "customer"]).await;
    let page = gql(&stack, "{ users(first: 100) { pageInfo { endCursor } } }", json!({}), Some(&admin)).await;
    let after = page["data"]["users"]["pageInfo"]["endCursor"].clone();
    assert!(after.is_string(), "{page}");

    let requests = stack.subgraph("users").request_count();
    let queries = statements.matching("FROM profiles");
    let body = gql(&stack, TWO_PAGES, json!({ "after": after }), Some(&admin)).await;
    assert!(body.get("errors").is_none(), "{body}");
    let names: Vec<&Value> = ["first", "second"]
        .iter()
        .flat_map(|alias| body["data"][alias]["edges"].as_array().expect("edges"))
        .map(|e| &e["node"]["displayName"])
        .collect();
    assert_eq!(names.len(), USERS);
    assert!(names.iter().all(|n| n.as_str().is_some_and(|s| s.starts_with("User "))), "every profile resolved");

    assert_eq!(stack.subgraph("users").request_count() - requests, 1, "one _entities request to users");
    assert_eq!(statements.matching("FROM profiles") - queries, 1, "one SQL statement for 200 profiles");
}
