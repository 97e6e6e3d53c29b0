//! Router overhead, measured: requests/s and p50/p99 latency through the router versus
//! straight to the subgraphs, for a one-subgraph query and a three-subgraph query, in one run.
//!
//! Run with `cargo bench --bench router`. It starts the whole stack in-process on 127.0.0.1
//! (SQLite, in-process bus), seeds one user with 5 orders, and sends a bounded number of
//! requests with a fixed concurrency. "Direct" for the three-subgraph query is what a client
//! would have to do by hand: the orders query, then `_entities` on auth and users in parallel.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::on_db;
use tessera_testkit::{TestStack, claims_for, spawn_configured, test_bus};
use uuid::Uuid;

const REQUESTS: usize = 3000;
const CONCURRENCY: usize = 16;

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure<F, Fut, T>(label: &str, call: F) -> Figures
where
    F: Fn() -> Fut + Sync,
    Fut: std::future::Future<Output = T>,
{
    // Warm up connections and caches (the plan cache among them).
    for _ in 0..50 {
        call().await;
    }
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..REQUESTS)
        .map(|_| async {
            let t = Instant::now();
            call().await;
            t.elapsed()
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    latencies.sort();
    let f = Figures {
        rps: REQUESTS as f64 / elapsed.as_secs_f64(),
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
    };
    println!("{label:<44} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms", f.rps, ms(f.p50), ms(f.p99));
    f
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(label: &str, router: &Figures, direct: &Figures) {
    println!(
        "{label:<44} throughput x{:.2}   p50 x{:.2}   p99 x{:.2}   (router / direct)\n",
        router.rps / direct.rps,
        ms(router.p50) / ms(direct.p50),
        ms(router.p99) / ms(direct.p99),
    );
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: Value) -> Value {
    let res = http.post(url).bearer_auth(token).json(&body).send().await.expect("answers");
    let body: Value = res.json().await.expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    body
}

async fn seed(stack: &TestStack) -> (Uuid, String) {
    let user = Uuid::now_v7();
    let now = chrono::Utc::now();
    let auth = &stack.subgraph("auth").rt.db;
    on_db!(auth, |p| sqlx::query(
        "INSERT INTO accounts (id, email, username, created_at) VALUES ($1, 'b@example.com', 'bench', $2)"
    )
    .bind(user)
    .bind(now)
    .execute(p)
    .await
    .map(|_| ()))
    .expect("account");
    let users = &stack.subgraph("users").rt.db;
    on_db!(users, |p| sqlx::query("INSERT INTO profiles (user_id, display_name, updated_at) VALUES ($1, 'Bench', $2)")
        .bind(user)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
    .expect("profile");
    let orders = &stack.subgraph("orders").rt.db;
    for i in 0..5i64 {
        tessera_testkit::orders::insert_order(orders, user, "CONFIRMED", 100 + i).await;
    }
    let token = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt)
        .await
        .expect("keys")
        .sign(&claims_for(user, &["customer"]));
    (user, token)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        // Rate limits off: the bench measures the router's overhead, not its budgets.
        let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
            c.router.rate_limit.per_ip.per_second = 0.0;
            c.router.rate_limit.per_user.per_second = 0.0;
        })
        .await;
        let (user, token) = seed(&stack).await;
        let http = reqwest::Client::new();
        let router = stack.router_url("/graphql");
        let orders = stack.subgraph("orders").url("/graphql");
        let auth = stack.subgraph("auth").url("/graphql");
        let users = stack.subgraph("users").url("/graphql");
        println!("{REQUESTS} requests per measure, concurrency {CONCURRENCY}, 127.0.0.1, SQLite, bench (release) profile\n");

        let one = json!({ "query": "{ myOrders { edges { node { id status totalCents } } } }" });
        let r1 = measure("one subgraph, through the router", || post(&http, &router, &token, one.clone())).await;
        let d1 = measure("one subgraph, straight to orders", || post(&http, &orders, &token, one.clone())).await;
        ratio("one subgraph", &r1, &d1);

        let three = json!({ "query": "{ myOrders { edges { node { id status user { username displayName } } } } }" });
        let r3 = measure("three subgraphs, through the router", || post(&http, &router, &token, three.clone())).await;
        let reps = json!([{ "__typename": "User", "id": user.to_string() }]);
        let d3 = measure("three subgraphs, by hand (3 requests)", || async {
            post(&http, &orders, &token, json!({ "query": "{ myOrders { edges { node { id status user { id } } } } }" })).await;
            let q = |field: &str| json!({
                "query": format!("query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on User {{ {field} }} }} }}"),
                "variables": { "r": reps.clone() },
            });
            futures::join!(post(&http, &auth, &token, q("username")), post(&http, &users, &token, q("displayName")))
        })
        .await;
        ratio("three subgraphs", &r3, &d3);
    });
}
