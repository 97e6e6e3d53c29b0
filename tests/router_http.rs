//! The router's HTTP front door: CSRF prevention, automatic persisted queries and limits.

use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, graphql, spawn_stack};

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn post(stack: &TestStack, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new().post(stack.router_url("/graphql")).json(&body).send().await.expect("answers");
    (res.status().as_u16(), res.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_persisted_query_misses_then_hits_after_the_client_sends_it_once() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let query = "{ signedIn }";
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } });

    let (_, miss) = post(&stack, json!({ "extensions": ext })).await;
    assert_eq!(miss["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{miss}");

    let (_, registered) = post(&stack, json!({ "query": query, "extensions": ext })).await;
    assert_eq!(registered["data"]["signedIn"], false, "{registered}");

    let (_, hit) = post(&stack, json!({ "extensions": ext })).await;
    assert_eq!(hit, json!({ "data": { "signedIn": false } }));

    // GET works the same way, as Apollo Client's `useGETForHashedQueries` sends it.
    let res = reqwest::Client::new()
        .get(stack.router_url("/graphql"))
        .header("apollo-require-preflight", "true")
        .query(&[("extensions", ext.to_string())])
        .send()
        .await
        .expect("answers");
    assert_eq!(res.json::<Value>().await.expect("JSON"), json!({ "data": { "signedIn": false } }));
}

#[tokio::test]
async fn a_persisted_query_whose_hash_does_not_match_is_refused() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ something else }") } });
    let (_, body) = post(&stack, json!({ "query": "{ signedIn }", "extensions": ext })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_HASH_MISMATCH");
}

#[tokio::test]
async fn a_simple_cross_site_request_is_refused_and_a_json_one_runs() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let http = reqwest::Client::new();
    let form = http
        .post(stack.router_url("/graphql"))
        .header("content-type", "text/plain")
        .body(json!({ "query": "{ signedIn }" }).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(form.status(), 400);
    assert_eq!(form.json::<Value>().await.expect("JSON")["errors"][0]["extensions"]["code"], "CSRF_PREVENTION");

    // GET runs queries only and credentials never ride in cookies, so a bare GET may run.
    let get = http.get(stack.router_url("/graphql")).query(&[("query", "{ signedIn }")]).send().await.expect("answers");
    assert_eq!(get.status(), 200);

    let (status, body) = graphql(&stack.router_url("/graphql"), "{ signedIn }", None).await;
    assert_eq!((status, &body), (200, &json!({ "data": { "signedIn": false } })));
}

#[tokio::test]
async fn operations_over_a_limit_are_refused_with_the_limits_code() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let before: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    let url = stack.router_url("/graphql");

    let aliases = format!("{{ {} }}", (0..31).map(|i| format!("a{i}: signedIn")).collect::<Vec<_>>().join(" "));
    let (status, body) = graphql(&url, &aliases, None).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_ALIASES_EXCEEDED", "{body}");

    let tokens = format!("{{ {} }}", vec!["signedIn"; 6000].join(" "));
    let (_, body) = graphql(&url, &tokens, None).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_TOKENS_EXCEEDED", "{body}");

    let deep = format!(
        "{{ {} }}",
        "__schema { types { fields { type { ".to_owned() + &"ofType { ".repeat(60) + "name" + &" }".repeat(64)
    );
    let (_, body) = graphql(&url, &deep, None).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_DEPTH_EXCEEDED", "{body}");

    let after: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    assert_eq!(before, after, "no limit violation reaches a subgraph");
}

#[tokio::test]
async fn variables_are_coerced_before_any_subgraph_is_called() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let before: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    let query = "query($t: String!) { validateToken(token: $t) { valid } }";
    let (_, missing) = post(&stack, json!({ "query": query })).await;
    assert_eq!(missing["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{missing}");
    assert_eq!(missing["errors"][0]["extensions"]["field"], "t");
    let (_, wrong) = post(&stack, json!({ "query": query, "variables": { "t": 42 } })).await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{wrong}");
    let after: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    assert_eq!(before, after);
    let (_, fine) = post(&stack, json!({ "query": query, "variables": { "t": "abc" } })).await;
    assert_eq!(fine, json!({ "data": { "validateToken": { "valid": false } } }));
}

#[tokio::test]
async fn the_graphql_response_media_type_gets_400_for_requests_that_fail_before_execution() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let http = reqwest::Client::new();
    let ask = |query: &'static str| {
        http.post(stack.router_url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query }))
            .send()
    };
    let bad = ask("{ nope }").await.expect("answers");
    assert_eq!(bad.status(), 400);
    // In the media type the client asked for, so Apollo Client 4 reads the errors' codes.
    assert!(bad.headers()["content-type"].to_str().expect("ASCII").starts_with("application/graphql-response+json"));
    let body: Value = bad.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    let ok = ask("{ signedIn }").await.expect("answers");
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["content-type"].to_str().expect("ASCII").starts_with("application/graphql-response+json"));
}

#[tokio::test]
async fn metrics_count_requests_fetches_and_plan_cache_use_for_allowed_addresses_only() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    for _ in 0..2 {
        let (_, body) = graphql(&stack.router_url("/graphql"), "{ signedIn }", None).await;
        assert_eq!(body["data"]["signedIn"], false);
    }
    let (_, refused) = graphql(&stack.router_url("/graphql"), "{", None).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED", "{refused}");
    let text = reqwest::get(stack.router_url("/metrics")).await.expect("answers").text().await.expect("text");
    // Refusals are counted for the whole process (other tests' routers add to it): present is enough.
    assert!(text.contains(r#"tessera_router_refusals_total{code="GRAPHQL_PARSE_FAILED"}"#), "{text}");
    for line in [
        r#"tessera_router_requests_total{operation_type="query",outcome="ok"} 2"#,
        r#"tessera_router_plan_cache_total{result="miss"} 1"#,
        r#"tessera_router_plan_cache_total{result="hit"} 1"#,
        r#"tessera_router_subgraph_fetch_duration_seconds_count{subgraph="auth"} 2"#,
        "tessera_router_websocket_connections 0",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }

    let closed = tessera_testkit::spawn_configured(&SUBGRAPHS, tessera_testkit::test_bus().await, |c| {
        c.router.metrics_allow = vec![]
    })
    .await;
    let res = reqwest::get(closed.router_url("/metrics")).await.expect("answers");
    assert_eq!(res.status(), 403, "loopback is not on this router's allowlist");
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let stack = tessera_testkit::spawn_configured(&SUBGRAPHS, tessera_testkit::test_bus().await, |c| {
        c.router.cors.allow_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, stack.router_url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization,apollographql-client-name,apollographql-client-version",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.expect("answers");
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
    // Apollo Client's `clientAwareness` headers, which a browser would otherwise block.
    let headers = allowed.headers()["access-control-allow-headers"].to_str().expect("ASCII").to_owned();
    assert!(
        headers.contains("apollographql-client-name") && headers.contains("apollographql-client-version"),
        "{headers}"
    );
    let other = preflight("https://evil.example").await.expect("answers");
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let default = spawn_stack(&SUBGRAPHS).await;
    let res = reqwest::Client::new()
        .post(default.router_url("/graphql"))
        .header("origin", "https://app.example.com")
        .json(&json!({ "query": "{ signedIn }" }))
        .send()
        .await
        .expect("answers");
    assert!(res.headers().get("access-control-allow-origin").is_none(), "no origins configured: no CORS headers");
}
