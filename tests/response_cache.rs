//! The response cache serves anonymous queries whose subgraphs allow caching, for as long as
//! they allow, and never a signed-in caller's.

use serde_json::Value;
use tessera::SUBGRAPHS;
use tessera_kit::config::SecretUrl;
use tessera_testkit::{TestStack, claims_for, graphql, spawn_configured, spawn_stack, test_bus};
use uuid::Uuid;

mod common;

async fn product(stack: &TestStack) -> String {
    let id = common::product(stack, "Pen", 250, 10).await;
    format!("{{ product(id: \"{id}\") {{ name price {{ amount currency }} }} }}")
}

async fn twice(stack: &TestStack, query: &str, token: Option<&str>, subgraph: &str) -> (usize, Value) {
    let before = stack.subgraph(subgraph).request_count();
    let (_, first) = graphql(&stack.router_url("/graphql"), query, token).await;
    let (_, second) = graphql(&stack.router_url("/graphql"), query, token).await;
    assert_eq!(first, second);
    (stack.subgraph(subgraph).request_count() - before, first)
}

#[tokio::test]
async fn an_anonymous_query_with_cache_hints_is_served_from_the_cache() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let query = product(&stack).await;
    let (sent, body) = twice(&stack, &query, None, "products").await;
    assert_eq!(body["data"]["product"]["name"], "Pen", "{body}");
    assert_eq!(sent, 1, "the second answer came from the cache");
}

#[tokio::test]
async fn a_signed_in_callers_query_is_never_cached() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let query = product(&stack).await;
    let keys = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys");
    let token = keys.sign(&claims_for(Uuid::now_v7(), &["customer"]));
    let (sent, _) = twice(&stack, &query, Some(&token), "products").await;
    assert_eq!(sent, 2);
}

#[tokio::test]
async fn an_answer_without_cache_hints_is_never_cached() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (sent, _) = twice(&stack, "{ signedIn }", None, "auth").await;
    assert_eq!(sent, 2);
}

#[tokio::test]
async fn router_replicas_share_the_cache_in_redis() {
    let Some(redis) = std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: set TEST_REDIS_URL (as .ci/run does) to test the Redis response cache");
        return;
    };
    let namespace = format!("test-{}", Uuid::now_v7().simple());
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.redis_url = Some(SecretUrl::parse(&redis).expect("a URL"));
        c.redis_namespace = namespace;
    })
    .await;
    let query = product(&stack).await;
    let (sent, _) = twice(&stack, &query, None, "products").await;
    assert_eq!(sent, 1, "the second answer came from Redis");
}
