//! Rate limits per client IP and per user, answered with 429, `RATE_LIMITED` and `Retry-After`;
//! with Redis, router replicas share one budget.

use tessera::SUBGRAPHS;
use tessera_auth::KeyRing;
use tessera_kit::config::{BucketConfig, SecretUrl};
use tessera_testkit::{TestStack, claims_for, spawn_configured, test_bus};
use uuid::Uuid;

async fn ask(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().post(url).json(&serde_json::json!({ "query": "{ signedIn }" }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("answers")
}

async fn assert_limited(res: reqwest::Response) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().expect("ASCII").parse().expect("seconds");
    assert!(retry >= 1, "Retry-After is at least a second");
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn a_client_ip_over_its_budget_gets_429_with_retry_after() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        c.router.rate_limit.per_ip = BucketConfig { capacity: 3.0, per_second: 0.2 };
    })
    .await;
    let url = stack.router_url("/graphql");
    for _ in 0..3 {
        assert_eq!(ask(&url, None).await.status(), 200);
    }
    assert_limited(ask(&url, None).await).await;
}

async fn token(stack: &TestStack, user: Uuid) -> String {
    KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys").sign(&claims_for(user, &["customer"]))
}

#[tokio::test]
async fn a_user_over_their_budget_is_limited_and_another_user_is_not() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        c.router.rate_limit.per_user = BucketConfig { capacity: 2.0, per_second: 0.1 };
    })
    .await;
    let url = stack.router_url("/graphql");
    let (alice, bob) = (token(&stack, Uuid::now_v7()).await, token(&stack, Uuid::now_v7()).await);
    for _ in 0..2 {
        assert_eq!(ask(&url, Some(&alice)).await.status(), 200);
    }
    assert_limited(ask(&url, Some(&alice)).await).await;
    assert_eq!(ask(&url, Some(&bob)).await.status(), 200, "bob has his own budget");
}

#[tokio::test]
async fn router_replicas_share_one_budget_in_redis() {
    let Some(redis) = std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: set TEST_REDIS_URL (as .ci/run does) to test the shared budget");
        return;
    };
    let namespace = format!("test-{}", Uuid::now_v7().simple());
    let configure = |c: &mut tessera_kit::config::Config| {
        c.redis_url = Some(SecretUrl::parse(&redis).expect("a URL"));
        c.redis_namespace = namespace.clone();
        c.router.rate_limit.per_ip = BucketConfig { capacity: 4.0, per_second: 0.1 };
    };
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, configure).await;

    // A second router replica over the same subgraphs and the same Redis.
    let mut config = (*stack.config).clone();
    configure(&mut config);
    let urls: Vec<(String, url::Url)> =
        stack.subgraphs.iter().map(|s| (s.name.to_owned(), url::Url::parse(&s.url("/")).expect("URL"))).collect();
    let app = tessera_router::build(&config, tessera_router::Subgraphs::from_urls(urls), None).await.expect("builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let second = format!("http://{}/graphql", listener.local_addr().expect("bound"));
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });

    let first = stack.router_url("/graphql");
    for url in [&first, &second, &first, &second] {
        assert_eq!(ask(url, None).await.status(), 200);
    }
    assert_limited(ask(&second, None).await).await;
}
