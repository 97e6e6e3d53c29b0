//! What checkout costs, measured in one run (SQLite, or PostgreSQL when `TEST_POSTGRES_URL` is
//! set; Redis bus when `TEST_REDIS_URL` is):
//! - `placeOrder` through the router (the order written pending, the reservation hop to
//!   products, the confirmation with its outbox event, the commit hop) against a single
//!   `reserveStock` call straight to products: the saga's price;
//! - `placeOrder` throughput on one hot product under contention against the same orders
//!   spread over 1,000 products.
//!
//! Run with `cargo bench --bench checkout`. Bounded: a fixed number of requests at a fixed
//! concurrency, on 127.0.0.1 only.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{measure, ms};
use tessera_products::{
    domain::{Status, money::Price},
    store::catalogue::{NewProduct, insert},
};
use tessera_testkit::{TestStack, claims_for, spawn_configured, test_bus};
use uuid::Uuid;

const PRODUCTS: usize = 1_000;
const CUSTOMERS: usize = 20;

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }";
const RESERVE: &str = "mutation($i: ReserveStockInput!) { reserveStock(input: $i) { reservation { id } } }";

async fn post(http: &reqwest::Client, url: &str, query: &str, variables: Value, token: &str) -> Value {
    let req = http.post(url).bearer_auth(token).json(&json!({ "query": query, "variables": variables }));
    let body: Value = req.send().await.expect("it answers").json().await.expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    body
}

/// `PRODUCTS` active products with stock for every call this bench makes.
async fn seed(stack: &TestStack) -> Vec<Uuid> {
    let db = &stack.subgraph("products").rt.db;
    let mut tx = db.begin().await.expect("a transaction");
    let mut ids = Vec::with_capacity(PRODUCTS);
    for i in 0..PRODUCTS {
        let new = NewProduct {
            sku: format!("BENCH-{i}"),
            name: format!("Bench product {i}"),
            description: String::new(),
            price: Price { amount: 100 + i as i64, currency: "EUR".into() },
            status: Status::Active,
            categories: Vec::new(),
            images: Vec::new(),
            stock: 1_000_000,
        };
        ids.push(insert(&mut tx, &new).await.expect("inserts").id);
    }
    tx.commit().await.expect("commits");
    ids
}

/// Waits until the work earlier calls left behind is done (events published, commits made), so
/// one phase's tail is not measured as the next phase's cost.
async fn quiet(stack: &TestStack) {
    for _ in 0..600 {
        let mut busy = 0i64;
        for sub in &stack.subgraphs {
            let db = &sub.rt.db;
            let sql = "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL";
            busy += tessera_kit::on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
                .expect("outbox");
        }
        let db = &stack.subgraph("orders").rt.db;
        let sql = "SELECT COUNT(*) FROM orders WHERE settlement IS NOT NULL";
        busy +=
            tessera_kit::on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).expect("orders");
        if busy == 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the stack never went quiet");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let stack = spawn_configured(&tessera::SUBGRAPHS, test_bus().await, |c| {
            c.log_format = tessera_kit::config::LogFormat::Json;
            c.checkout.orders_per_user_per_hour = u32::MAX; // the bench's few customers order a lot
        })
        .await;
        println!("backend: {}", stack.subgraph("orders").rt.db.backend());
        let ids = seed(&stack).await;
        let http = reqwest::Client::new();
        let keys = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys");
        let customers: Vec<String> =
            (0..CUSTOMERS).map(|_| keys.sign(&claims_for(Uuid::now_v7(), &["customer"]))).collect();
        let service = tessera_testkit::service_token(&stack).await;
        let router = stack.router_url("/graphql");
        let products = stack.subgraph("products").url("/graphql");
        let orders = stack.subgraph("orders").url("/graphql");
        let run = Uuid::now_v7().simple().to_string();

        println!("\n== what the saga costs: one order of one line, spread over {PRODUCTS} products ==");
        let (reserve_p50, reserve_p99, reserve_rps) = measure(|i| {
            let vars = json!({ "i": { "reservationId": Uuid::now_v7(), "items": [{ "productId": ids[i % PRODUCTS], "quantity": 1 }] } });
            let (http, products, service) = (&http, &products, &service);
            async move {
                post(http, products, RESERVE, vars, service).await;
            }
        })
        .await;
        println!("reserveStock (products)       p50 {:>7.2} ms   p99 {:>7.2} ms   {reserve_rps:>6.0} req/s", ms(reserve_p50), ms(reserve_p99));
        let place = |via: &'static str, hot: bool| {
            let (http, ids, customers, run) = (&http, &ids, &customers, &run);
            let url = if via == "router" { router.clone() } else { orders.clone() };
            move |i: usize| {
                let product = if hot { ids[0] } else { ids[i % PRODUCTS] };
                // A key per phase and call: a repeated key would be a replay, not an order.
                let key = format!("{run}-{via}-{hot}-{i}");
                let vars = json!({ "i": { "idempotencyKey": key, "items": [{ "productId": product, "quantity": 1 }] } });
                let url = url.clone();
                async move {
                    let body = post(http, &url, PLACE, vars, &customers[i % CUSTOMERS]).await;
                    assert_eq!(body["data"]["placeOrder"]["order"]["status"], "CONFIRMED", "{body}");
                }
            }
        };
        quiet(&stack).await;
        let (spread_p50, spread_p99, spread_rps) = measure(place("router", false)).await;
        println!("placeOrder (router)           p50 {:>7.2} ms   p99 {:>7.2} ms   {spread_rps:>6.0} req/s", ms(spread_p50), ms(spread_p99));
        quiet(&stack).await;
        let (direct_p50, direct_p99, _) = measure(place("orders", false)).await;
        println!("placeOrder (orders, direct)   p50 {:>7.2} ms   p99 {:>7.2} ms", ms(direct_p50), ms(direct_p99));
        quiet(&stack).await;
        let (replay_p50, replay_p99, _) = measure(place("orders", false)).await;
        println!("placeOrder replayed (a key already used) p50 {:>7.2} ms   p99 {:>7.2} ms", ms(replay_p50), ms(replay_p99));
        println!("placeOrder through the router ÷ one reserveStock (p50): {:.2}", spread_p50.as_secs_f64() / reserve_p50.as_secs_f64());

        println!("\n== placeOrder on one hot product against {PRODUCTS} (through the router) ==");
        quiet(&stack).await;
        let (hot_p50, hot_p99, hot_rps) = measure(place("router", true)).await;
        println!("hot (one product)      {hot_rps:>7.0} orders/s   p50 {:>7.2} ms   p99 {:>7.2} ms", ms(hot_p50), ms(hot_p99));
        println!("spread ({PRODUCTS})          {spread_rps:>7.0} orders/s   p50 {:>7.2} ms   p99 {:>7.2} ms", ms(spread_p50), ms(spread_p99));
        println!("hot ÷ spread throughput: {:.2}", hot_rps / spread_rps);
    });
}
