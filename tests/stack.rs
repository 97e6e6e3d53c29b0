//! The whole stack starts, answers its probes, and meets bad input with coded errors.

use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{graphql, spawn_stack};

#[tokio::test]
async fn every_component_answers_health_and_the_router_is_ready() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let http = reqwest::Client::new();
    for sub in &stack.subgraphs {
        let res = http.get(sub.url("/health")).send().await.expect("answers");
        assert_eq!(res.status(), 200, "{} /health", sub.name);
        let ready: serde_json::Value =
            http.get(sub.url("/ready")).send().await.expect("answers").json().await.expect("JSON");
        assert_eq!(ready["database"]["ok"], true, "{} database", sub.name);
        assert_eq!(ready["bus"]["ok"], true, "{} bus", sub.name);
        // The suite runs twice in CI; make sure the second run really is on PostgreSQL and Redis.
        let backend =
            if std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) { "postgres" } else { "sqlite" };
        let bus = if std::env::var("TEST_REDIS_URL").is_ok_and(|u| !u.is_empty()) { "redis" } else { "local" };
        assert_eq!(ready["database"]["backend"], backend, "{} database backend", sub.name);
        assert_eq!(ready["bus"]["backend"], bus, "{} bus backend", sub.name);
    }
    assert_eq!(http.get(stack.router_url("/health")).send().await.expect("answers").status(), 200);
    let res = http.get(stack.router_url("/ready")).send().await.expect("answers");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(body["subgraphs"].as_object().expect("per subgraph").len(), 5);
}

#[tokio::test]
async fn the_router_is_not_ready_while_a_subgraph_is_unreachable() {
    let stack = spawn_stack(&[tessera_auth::SPEC]).await;
    // A second router: auth is real, "users" points at a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("binds").local_addr().expect("bound");
    // The supergraph names all five; each is pointed somewhere, so nothing depends on what
    // happens to listen on the default ports.
    let mut urls = vec![("auth".to_owned(), url::Url::parse(&stack.subgraph("auth").url("/")).expect("URL"))];
    for name in ["users", "products", "orders", "notifications"] {
        urls.push((name.to_owned(), url::Url::parse(&format!("http://{closed}/")).expect("URL")));
    }
    // Composition from live subgraphs would fail on the unreachable one; load a file instead.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("supergraph.graphql");
    let sdl = tessera::compose::supergraph(&tessera_kit::config::Config::default()).expect("composes");
    std::fs::write(&path, sdl).expect("writes");
    let mut config = tessera_kit::config::Config::default();
    config.router.supergraph_path = Some(path);
    let app = tessera_router::build(&config, tessera_router::Subgraphs::from_urls(urls), None).await.expect("builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let res = reqwest::get(format!("http://{addr}/ready")).await.expect("answers");
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({ "subgraphs": { "auth": true, "users": false, "products": false, "orders": false, "notifications": false } })
    );
}

#[tokio::test]
async fn malformed_json_gets_bad_user_input_not_a_server_error() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let res = reqwest::Client::new()
        .post(stack.subgraph("users").url("/graphql"))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let huge = "x".repeat(stack.config.body_limit_bytes + 1);
    let res = reqwest::Client::new()
        .post(stack.subgraph("users").url("/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": format!("{{ __typename }} # {huge}") }).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn an_unknown_field_gets_a_validation_code() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let (status, body) = graphql(&stack.subgraph("users").url("/graphql"), "{ nope }", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn a_query_nested_too_deep_is_refused_before_it_runs() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let depth = 40;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(depth),
        "} ".repeat(depth)
    );
    let (_, body) = graphql(&stack.subgraph("users").url("/graphql"), &deep, None).await;
    assert!(body["data"].is_null(), "{body}");
    assert!(body["errors"][0]["message"].as_str().expect("a message").contains("nested too deep"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn a_query_that_does_not_parse_gets_a_parse_code() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let (status, body) = graphql(&stack.subgraph("users").url("/graphql"), "{ me { id }", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED", "{body}");
}

#[tokio::test]
async fn get_runs_queries_but_refuses_mutations() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let http = reqwest::Client::new();
    let url = stack.subgraph("users").url("/graphql");
    let ok = http.get(&url).query(&[("query", "{ __typename }")]).send().await.expect("answers");
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.expect("JSON");
    assert_eq!(body["data"]["__typename"], "Query");
    let refused = http.get(&url).query(&[("query", "mutation { x }")]).send().await.expect("answers");
    assert_eq!(refused.status(), 405);
}

#[tokio::test]
async fn a_request_id_is_taken_from_the_client_or_generated_and_returned() {
    let stack = spawn_stack(&[tessera_users::SPEC]).await;
    let http = reqwest::Client::new();
    let url = stack.subgraph("users").url("/health");
    let given = http.get(&url).header("x-request-id", "trace-me-42").send().await.expect("answers");
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
    let generated = http.get(&url).send().await.expect("answers");
    let id = generated.headers()["x-request-id"].to_str().expect("ASCII");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a generated id is a UUID: {id}");
}

#[tokio::test]
async fn the_router_serves_a_supergraph_it_has_never_seen_from_its_own_subgraph_names_and_urls() {
    let stack = spawn_stack(&[tessera_auth::SPEC, tessera_users::SPEC]).await;
    // Our supergraph, as someone else would have composed it: other subgraph names, and the
    // URLs where those subgraphs really run. The router gets no URL from its configuration.
    let ours = tessera::compose::supergraph(&tessera_kit::config::Config::default()).expect("composes");
    let theirs = ours
        .replace(
            r#"name: "auth", url: "http://127.0.0.1:4001/graphql""#,
            &format!(r#"name: "identity-svc", url: "{}""#, stack.subgraph("auth").url("/graphql")),
        )
        .replace(
            r#"name: "users", url: "http://127.0.0.1:4002/graphql""#,
            &format!(r#"name: "People", url: "{}""#, stack.subgraph("users").url("/graphql")),
        );
    assert!(theirs.contains("identity-svc") && theirs.contains(r#"name: "People""#), "the names were replaced");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("theirs.graphql");
    std::fs::write(&path, theirs).expect("writes");
    let mut config = tessera_kit::config::Config::default();
    config.router.supergraph_path = Some(path);
    let app = tessera_router::build(&config, tessera_router::Subgraphs::default(), None).await.expect("builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/graphql");

    let register = "mutation { register(input: { email: \"ada@example.com\", username: \"ada\", password: \"violet kettle drifting over marble\" }) { user { id } } }";
    let (_, registered) = graphql(&url, register, None).await;
    let id = registered["data"]["register"]["user"]["id"].as_str().unwrap_or_else(|| panic!("{registered}")).to_owned();
    // users (named People) then auth (named identity-svc) through an entity fetch.
    let query = format!("{{ user(id: \"{id}\") {{ id username displayName }} }}");
    tessera_testkit::eventually("the profile is created", || async {
        graphql(&url, &query, None).await.1["data"]["user"]["username"] == "ada"
    })
    .await;
    let (_, found) = graphql(&url, &query, None).await;
    assert_eq!(found["data"]["user"], json!({ "id": id, "username": "ada", "displayName": "ada" }), "{found}");
}
