//! The catalogue at scale, measured in one run on 100,000 products (SQLite, or PostgreSQL when
//! `TEST_POSTGRES_URL` is set), through the products subgraph's HTTP endpoint:
//! - a keyset list's latency at the 1,000th page against the first, per sort order
//!   (target: at most 1.3);
//! - full-text search latency, p50 and p99;
//! - `reserveStock` throughput on one hot product against spreading the same calls over many.
//!
//! Run with `cargo bench --bench catalogue`. Bounded: a fixed number of requests at a fixed
//! concurrency, on 127.0.0.1 only.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::{measure, ms};
use tessera_products::{
    domain::{
        Status,
        listing::{Cursor, Key, Order},
        money::Price,
    },
    store::catalogue::{NewProduct, insert},
};
use tessera_testkit::{TestStack, spawn_configured, test_bus};
use uuid::Uuid;

const PRODUCTS: usize = 100_000;
const PAGE: usize = 100;
const WORDS: [&str; 24] = [
    "oak", "walnut", "steel", "linen", "copper", "glass", "wool", "cedar", "brass", "ceramic", "cotton", "leather",
    "lamp", "chair", "table", "bowl", "knife", "kettle", "shelf", "blanket", "mirror", "vase", "clock", "basket",
];

async fn post(http: &reqwest::Client, url: &str, query: &str, variables: Value, token: Option<&str>) -> Value {
    let mut req = http.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let body: Value = req.send().await.expect("the subgraph answers").json().await.expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    body
}

async fn seed(stack: &TestStack) {
    let db = &stack.subgraph("products").rt.db;
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(7);
    for chunk in 0..PRODUCTS / 5000 {
        let mut tx = db.begin().await.expect("a transaction");
        for i in 0..5000 {
            let n = chunk * 5000 + i;
            let word = |rng: &mut fastrand::Rng| WORDS[rng.usize(..WORDS.len())];
            let new = NewProduct {
                sku: format!("B-{n:06}"),
                name: format!("{} {} {n}", word(&mut rng), word(&mut rng)),
                description: format!("A {} {} made of {}.", word(&mut rng), word(&mut rng), word(&mut rng)),
                price: Price { amount: rng.i64(100..100_000), currency: "EUR".into() },
                status: Status::Active,
                categories: vec![format!("c{}", n % 20)],
                images: Vec::new(),
                stock: rng.i64(0..50),
            };
            insert(&mut tx, &new).await.expect("inserts");
        }
        tx.commit().await.expect("commits");
    }
    // Fresh statistics, as PostgreSQL's autovacuum would gather after a bulk load (without them
    // it plans the search through the status index, three times slower).
    tessera_kit::on_db!(db, |pool| sqlx::query("ANALYZE").execute(pool).await.map(|_| ())).expect("analyzes");
    println!("seeded {PRODUCTS} products in {:.1} s", started.elapsed().as_secs_f64());
}

/// The cursor after which the 1,000th page starts, read from the table with an offset (setup
/// only: the benchmark then pages by keyset from it).
async fn cursor_at(stack: &TestStack, order: Order, offset: usize) -> String {
    let db = &stack.subgraph("products").rt.db;
    let (column, dir) = match order {
        Order::Newest => ("id", "DESC"),
        Order::PriceAsc => ("price_cents", "ASC"),
        Order::Name => ("name_key", "ASC"),
        _ => unreachable!("not benchmarked"),
    };
    let sql = format!(
        "SELECT id, price_cents, name_key FROM products WHERE status = 'ACTIVE' \
         ORDER BY {column} {dir}, id {dir} LIMIT 1 OFFSET {}",
        offset - 1
    );
    let (id, price, name): (Uuid, i64, String) =
        tessera_kit::on_db!(db, |pool| sqlx::query_as(&sql).fetch_one(pool).await).expect("the row");
    let key = match order {
        Order::Newest => Key::Id,
        Order::PriceAsc => Key::Int(price),
        _ => Key::Text(name),
    };
    Cursor { order, key, id }.encode()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let stack = spawn_configured(&tessera::SUBGRAPHS, test_bus().await, |c| {
            c.log_format = tessera_kit::config::LogFormat::Json;
        })
        .await;
        println!("backend: {}", stack.subgraph("products").rt.db.backend());
        seed(&stack).await;
        let http = reqwest::Client::new();
        let url = stack.subgraph("products").url("/graphql");
        let customer = tessera_testkit::claims_for(Uuid::now_v7(), &["customer"]);
        let token = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys").sign(&customer);
        let list = "query($after: String, $sort: ProductSort) { products(first: 100, after: $after, sort: $sort) \
                    { edges { node { id name price { amount } } } pageInfo { hasNextPage } } }";

        println!("\n== keyset lists: the 1,000th page against the first (target ≤ 1.3) ==");
        for (sort, order) in [("NEWEST", Order::Newest), ("PRICE_ASC", Order::PriceAsc), ("NAME", Order::Name)] {
            let deep = cursor_at(&stack, order, PAGE * 999).await;
            let (first, _, _) = measure(|_| async {
                post(&http, &url, list, json!({ "sort": sort }), Some(&token)).await;
            })
            .await;
            let (last, _, _) = measure(|_| async {
                let body = post(&http, &url, list, json!({ "sort": sort, "after": deep }), Some(&token)).await;
                assert_eq!(body["data"]["products"]["edges"].as_array().map(Vec::len), Some(PAGE));
            })
            .await;
            println!(
                "{sort:<10} first page p50 {:>7.2} ms   1,000th page p50 {:>7.2} ms   ratio {:.2}",
                ms(first),
                ms(last),
                last.as_secs_f64() / first.as_secs_f64()
            );
        }

        println!("\n== full-text search on {PRODUCTS} products (first 20, ranked) ==");
        let search = "query($s: String) { products(first: 20, filter: { search: $s }) { edges { node { id } } } }";
        let (p50, p99, rps) = measure(|i| {
            let terms = format!("{} {}", WORDS[i % WORDS.len()], WORDS[(i * 7 + 3) % WORDS.len()]);
            let (http, url, token) = (&http, &url, &token);
            async move {
                post(http, url, search, json!({ "s": terms }), Some(token)).await;
            }
        })
        .await;
        println!("search     p50 {:>7.2} ms   p99 {:>7.2} ms   {rps:.0} req/s", ms(p50), ms(p99));

        println!("\n== reserveStock: one hot product against many ==");
        let service = tessera_testkit::service_token(&stack).await;
        let reserve = "mutation($i: ReserveStockInput!) { reserveStock(input: $i) { reservation { id } } }";
        let ids: Vec<Uuid> = {
            let db = &stack.subgraph("products").rt.db;
            let sql = "SELECT id FROM products ORDER BY id LIMIT 1000";
            tessera_kit::on_db!(db, |pool| sqlx::query_scalar(sql).fetch_all(pool).await).expect("ids")
        };
        let admin = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt)
            .await
            .expect("keys")
            .sign(&tessera_testkit::claims_for(Uuid::now_v7(), &["admin"]));
        let adjust = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { stock } } }";
        for id in &ids {
            post(&http, &url, adjust, json!({ "i": { "id": id, "delta": 10_000, "reason": "bench" } }), Some(&admin)).await;
        }
        let mut figures = Vec::new();
        for (label, spread) in [("hot (one product)", false), ("uncontended (1,000)", true)] {
            let (p50, p99, rps) = measure(|i| {
                let product = if spread { ids[i % ids.len()] } else { ids[0] };
                let vars = json!({ "i": { "reservationId": Uuid::now_v7(), "items": [{ "productId": product, "quantity": 1 }] } });
                let (http, url, service) = (&http, &url, &service);
                async move {
                    post(http, url, reserve, vars, Some(service)).await;
                }
            })
            .await;
            println!("{label:<22} {rps:>7.0} reservations/s   p50 {:>7.2} ms   p99 {:>7.2} ms", ms(p50), ms(p99));
            figures.push(rps);
        }
        println!("hot ÷ uncontended throughput: {:.2}", figures[0] / figures[1]);
    });
}
