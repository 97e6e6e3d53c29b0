//! Cost is bounded before it is paid: a fragment bomb, too many directives, oversized headers and
//! oversized subgraph answers are refused with their codes, over every transport, and the router
//! stays responsive while it refuses them.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, spawn_configured, spawn_stack, test_bus, ws};

/// `fragment F0 on Product { ...F1 ...F1 } … fragment Fn on Product { id }`: about 900 bytes
/// that expand to 2^n selections.
fn bomb(n: usize) -> String {
    let mut query = String::from("{ product(id: \"0190a000-0000-7000-8000-000000000000\") { ...F0 } }\n");
    for i in 0..n {
        query.push_str(&format!("fragment F{i} on Product {{ ...F{} ...F{} }}\n", i + 1, i + 1));
    }
    query.push_str(&format!("fragment F{n} on Product {{ id }}\n"));
    query
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

async fn post(stack: &TestStack, query: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let res = reqwest::Client::new()
        .post(stack.router_url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the router answers");
    let status = res.status().as_u16();
    let body = res.json().await.expect("JSON");
    (status, body, started.elapsed())
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_with_a_coded_400_over_post_get_and_websocket() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let query = bomb(24);
    assert!(query.len() < 1200, "a small request: {} bytes", query.len());

    let (status, body, took) = post(&stack, &query).await;
    println!("fragment bomb (N=24) refused over POST in {took:?}");
    assert_eq!((status, code(&body)), (400, "MAX_SELECTIONS_EXCEEDED"), "{body}");
    // Expanding it takes tens of seconds, then runs out of memory; refusing it takes milliseconds.
    assert!(took < Duration::from_secs(2), "refused without expanding: {took:?}");

    let res = reqwest::Client::new()
        .get(stack.router_url("/graphql"))
        .query(&[("query", query.as_str())])
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "MAX_SELECTIONS_EXCEEDED", "over GET: {body}");

    let mut socket = ws::subscribe(&format!("ws://{}/graphql", stack.router), None, &query).await;
    let msg = ws::next_json(&mut socket).await.expect("an answer");
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "MAX_SELECTIONS_EXCEEDED", "over a websocket: {msg}");
}

#[tokio::test]
async fn health_keeps_answering_during_a_flood_of_fragment_bombs() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    // Each bomb is a new document (its own variant), so none is answered from the cache.
    let flood = futures::stream::iter(0..400)
        .map(|i| {
            let stack = &stack;
            async move { post(stack, &format!("# {i}\n{}", bomb(24))).await.1 }
        })
        .buffer_unordered(16)
        .collect::<Vec<Value>>();
    let health = async {
        let mut slowest = Duration::ZERO;
        for _ in 0..40 {
            let started = Instant::now();
            let res = reqwest::get(stack.router_url("/health")).await.expect("health answers");
            assert!(res.status().is_success());
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        slowest
    };
    let (answers, slowest) = tokio::join!(flood, health);
    println!("slowest /health during the flood: {slowest:?}");
    assert!(answers.iter().all(|b| code(b) == "MAX_SELECTIONS_EXCEEDED"), "every bomb is refused");
    assert!(slowest < Duration::from_secs(1), "/health stayed responsive: {slowest:?}");
}

#[tokio::test]
async fn a_chain_of_fragments_nesting_hundreds_deep_is_refused_before_anything_recurses_through_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    // Each fragment is 4 levels deep, well within the parser's limit; inlined, the chain is 800.
    let mut query = String::from("{ me { ...F0 } }\n");
    for i in 0..200 {
        query.push_str(&format!(
            "fragment F{i} on User {{ notifications {{ edges {{ node {{ user {{ ...F{} }} }} }} }} }}\n",
            i + 1
        ));
    }
    query.push_str("fragment F200 on User { id }\n");
    let (status, body, _) = post(&stack, &query).await;
    assert_eq!((status, code(&body)), (400, "MAX_DEPTH_EXCEEDED"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("802 levels"), "{body}");
    let health = reqwest::get(stack.router_url("/health")).await.expect("the router is still up");
    assert!(health.status().is_success());
}

#[tokio::test]
async fn a_fragment_cycle_is_refused_and_the_router_stays_up() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    // The overlapping-fields validator followed this cycle until the stack overflowed.
    let query = "{ signedIn } fragment F0 on Product { user { user { ...F0 } ...F0 } }";
    let (status, body, _) = post(&stack, query).await;
    assert_eq!((status, code(&body)), (200, "GRAPHQL_VALIDATION_FAILED"), "{body}");
    let (_, body, _) = post(&stack, "{ signedIn }").await;
    assert_eq!(body, json!({ "data": { "signedIn": false } }), "the router is still up");
}

#[tokio::test]
async fn thousands_of_repeats_of_one_field_are_refused_before_validation_compares_them_pairwise() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    // 4,900 `signedIn`: 12 million pairs for the overlapping-fields rule, seconds of CPU.
    let (status, body, took) = post(&stack, &format!("{{ {} }}", "signedIn ".repeat(4900))).await;
    println!("4,900 repeated fields refused in {took:?}");
    assert_eq!((status, code(&body)), (400, "MAX_FIELD_PAIRS_EXCEEDED"), "{body}");
    let (status, body, _) = post(&stack, &format!("{{ {} }}", "signedIn ".repeat(100))).await;
    assert_eq!((status, &body), (200, &json!({ "data": { "signedIn": false } })), "100 repeats merge as usual");
}

#[tokio::test]
async fn an_operation_within_the_expansion_bound_still_runs() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (status, body, _) = post(&stack, &bomb(8)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "data": { "product": null } }), "256 selections are fine");
}

#[tokio::test]
async fn too_many_directives_are_refused_with_their_code() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.limits.max_directives = 3).await;
    let (status, body, _) =
        post(&stack, "{ signedIn @include(if: true) @skip(if: false) __typename @skip(if: false) @skip(if: false) }")
            .await;
    assert_eq!((status, code(&body)), (400, "MAX_DIRECTIVES_EXCEEDED"), "{body}");
    let (status, body, _) = post(&stack, "{ signedIn @include(if: true) }").await;
    assert_eq!((status, &body), (200, &json!({ "data": { "signedIn": false } })));
}

#[tokio::test]
async fn request_headers_over_the_limit_are_refused_with_431() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.limits.max_header_bytes = 2048).await;
    let res = reqwest::Client::new()
        .post(stack.router_url("/graphql"))
        .header("x-padding", "p".repeat(4096))
        .json(&json!({ "query": "{ signedIn }" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 431);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "MAX_HEADERS_SIZE_EXCEEDED", "{body}");
}

#[tokio::test]
async fn subgraph_answers_over_the_response_bound_are_refused_with_a_coded_error() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.limits.max_response_bytes = 40).await;
    let (status, body, _) = post(&stack, "{ signedIn }").await;
    assert_eq!((status, &body), (200, &json!({ "data": { "signedIn": false } })), "a small answer fits");

    let long = "x".repeat(200);
    let (status, body, _) = post(&stack, &format!("{{ validateToken(token: \"{long}\") {{ valid reason }} }}")).await;
    assert_eq!(status, 200);
    assert_eq!(code(&body), "MAX_RESPONSE_SIZE_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["validateToken"]), "{body}");
}
