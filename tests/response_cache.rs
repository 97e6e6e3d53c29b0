//! The response cache serves anonymous queries whose subgraphs allow caching, for as long as
//! they allow, and never a signed-in caller's.

use serde_json::{Value, json};
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

/// A stack whose router caches in Redis (its own namespace), or None without `TEST_REDIS_URL`.
async fn redis_stack() -> Option<TestStack> {
    let Some(redis) = std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: set TEST_REDIS_URL (as .ci/run does) to test the Redis response cache");
        return None;
    };
    let namespace = format!("test-{}", Uuid::now_v7().simple());
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.redis_url = Some(SecretUrl::parse(&redis).expect("a URL"));
        c.redis_namespace = namespace;
    })
    .await;
    Some(stack)
}

#[tokio::test]
async fn router_replicas_share_the_cache_in_redis() {
    let Some(stack) = redis_stack().await else { return };
    let query = product(&stack).await;
    let (sent, _) = twice(&stack, &query, None, "products").await;
    assert_eq!(sent, 1, "the second answer came from Redis");
}

const PRICE: &str = "mutation($i: UpdateProductInput!) { updateProduct(input: $i) { product { version } } }";

/// Asks `query` anonymously until the cache answers it (the subgraph is not asked again).
async fn cached(stack: &TestStack, query: &str) -> Value {
    let (sent, body) = twice(stack, query, None, "products").await;
    assert_eq!(sent, 1, "the second answer came from the cache: {body}");
    body
}

async fn changes_are_seen_at_once(stack: &TestStack) {
    let id = common::product(stack, "Pen", 250, 10).await;
    let one = format!("{{ product(id: \"{id}\") {{ name price {{ amount }} stock }} }}");
    let list = "{ products(first: 5) { edges { node { id price { amount } stock } } } }";
    assert_eq!(cached(stack, &one).await["data"]["product"]["price"]["amount"], 250);
    cached(stack, list).await;

    let admin = common::token(stack, Uuid::now_v7(), &["admin"]).await;
    let input = json!({ "i": { "id": id, "expectedVersion": 1, "price": { "amount": 199, "currency": "EUR" } } });
    let updated = common::gql(stack, PRICE, input, Some(&admin)).await;
    assert_eq!(updated["data"]["updateProduct"]["product"]["version"], 2, "{updated}");
    // No waiting: the mutation's answer passed through the router, which dropped what it held.
    let (_, now) = graphql(&stack.router_url("/graphql"), &one, None).await;
    assert_eq!(now["data"]["product"]["price"]["amount"], 199, "{now}");
    let (_, listed) = graphql(&stack.router_url("/graphql"), list, None).await;
    assert_eq!(listed["data"]["products"]["edges"][0]["node"]["price"]["amount"], 199, "{listed}");

    // A change that does not pass through the router (an admin's stock adjustment straight at
    // the subgraph, as a service would): its StockChanged event drops the cached answers.
    // (The update's own event arrives a moment later and drops it once more: wait until the
    // answer stays cached.)
    tessera_testkit::eventually("the answer after the update is cached", || async {
        graphql(&stack.router_url("/graphql"), &one, None).await;
        let before = stack.subgraph("products").request_count();
        graphql(&stack.router_url("/graphql"), &one, None).await;
        stack.subgraph("products").request_count() == before
    })
    .await;
    let adjust = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { stock } } }";
    let vars = json!({ "i": { "id": id, "delta": -4, "reason": "breakage" } });
    let direct =
        tessera_testkit::graphql_with(&stack.subgraph("products").url("/graphql"), adjust, vars, Some(&admin)).await.1;
    assert_eq!(direct["data"]["adjustStock"]["product"]["stock"], 6, "{direct}");
    tessera_testkit::eventually("the event drops the cached stock", || async {
        graphql(&stack.router_url("/graphql"), &one, None).await.1["data"]["product"]["stock"] == 6
    })
    .await;
}

#[tokio::test]
async fn a_cached_answer_shows_a_changed_price_at_once_and_a_changed_stock_when_its_event_arrives() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    changes_are_seen_at_once(&stack).await;
}

#[tokio::test]
async fn changes_drop_cached_answers_in_redis_too() {
    let Some(stack) = redis_stack().await else { return };
    changes_are_seen_at_once(&stack).await;
}

#[tokio::test]
async fn admin_only_fields_are_never_cached() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let id = common::product(&stack, "Pen", 250, 10).await;
    let query = format!("{{ product(id: \"{id}\") {{ reserved }} }}");
    let (_, anonymous) = graphql(&stack.router_url("/graphql"), &query, None).await;
    assert_eq!(anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{anonymous}");
    let admin = common::token(&stack, Uuid::now_v7(), &["admin"]).await;
    let (sent, body) = twice(&stack, &query, Some(&admin), "products").await;
    assert_eq!(body["data"]["product"]["reserved"], 0, "{body}");
    assert_eq!(sent, 2);
}
