//! A crash in the middle of checkout: a real orders process (`tessera serve orders`) killed
//! with SIGKILL after products reserved the stock and before the order was confirmed. After a
//! restart its recovery sweep finds the order still pending, rejects it and gives the units
//! back; nothing stays reserved and nothing is confirmed without its reservation.

mod common;

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
};

use common::{
    product,
    shop::{levels, reservations, settled},
};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, eventually, fault_proxy::FaultProxy, graphql_with, spawn_stack};
use uuid::Uuid;

/// `placeOrder` as the orders subgraph alone answers it (no product fields: those are products').
const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }";

/// A process this test started, killed (SIGKILL, by its own handle) when dropped, so a failing
/// test leaves nothing running.
struct Process(Child);

impl Process {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `tessera serve orders` on `addr`, sharing the stack's data directory (its service secret),
/// verifying tokens with the stack's auth and reaching products through `proxy`.
fn orders_process(stack: &TestStack, addr: SocketAddr, proxy: &FaultProxy, database_url: Option<&str>) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(["serve", "orders"])
        .env_clear()
        .env("TESSERA_DATA_DIR", &stack.config.data_dir)
        .env("TESSERA_ORDERS__LISTEN", addr.to_string())
        .env("TESSERA_AUTH__URL", stack.subgraph("auth").url("/"))
        .env("TESSERA_PRODUCTS__URL", proxy.url().as_str())
        .env("TESSERA_CHECKOUT__PENDING_GRACE_SECONDS", "1")
        .env("TESSERA_CHECKOUT__SWEEP_INTERVAL_SECONDS", "1")
        .env("TESSERA_LOG_FORMAT", "pretty")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    Process(cmd.spawn().expect("the tessera binary starts"))
}

async fn healthy(addr: SocketAddr) {
    eventually("the orders process answers", || async {
        reqwest::get(format!("http://{addr}/health")).await.is_ok_and(|r| r.status() == 200)
    })
    .await;
}

#[tokio::test]
async fn an_orders_process_killed_between_reserving_and_confirming_is_recovered_by_its_sweep() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let proxy = FaultProxy::start().await;
    proxy.point_at(&stack.subgraph("products").url(""));
    let lamp = product(&stack, "Lamp", 4000, 5).await;
    let database_url = tessera_testkit::db::fresh_postgres_url("orders_crash").await;
    let addr: SocketAddr = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        free.local_addr().expect("bound")
    };
    let mut orders = orders_process(&stack, addr, &proxy, database_url.as_deref());
    healthy(addr).await;

    // Products takes the stock, but its answer never reaches orders: orders is killed first.
    proxy.withhold_answers_to(Some("reserveStock"));
    let user = Uuid::now_v7();
    let token = common::token(&stack, user, &["customer"]).await;
    let url = format!("http://{addr}/graphql");
    let vars = json!({ "i": { "items": [{ "productId": lamp, "quantity": 2 }], "idempotencyKey": "crash" } });
    let checkout = tokio::spawn({
        let (url, token) = (url.clone(), token.clone());
        async move { graphql_with(&url, PLACE, vars, Some(&token)).await }
    });
    eventually("products reserved the stock", || async { proxy.withheld() == 1 }).await;
    orders.kill();
    checkout.abort();
    assert_eq!(levels(&stack, lamp).await, (3, 2), "two units held for an order nobody confirmed");
    assert_eq!(reservations(&stack).await, [("HELD".to_owned(), 1)]);

    proxy.withhold_answers_to(None);
    let mut orders = orders_process(&stack, addr, &proxy, database_url.as_deref());
    healthy(addr).await;
    eventually("the sweep gave the units back", || async { levels(&stack, lamp).await == (5, 0) }).await;
    assert_eq!(reservations(&stack).await, [("RELEASED".to_owned(), 1)]);

    let (_, mine) = graphql_with(
        &url,
        "{ myOrders { edges { node { status history { status actor reason } } } } }",
        json!({}),
        Some(&token),
    )
    .await;
    let history = &mine["data"]["myOrders"]["edges"][0]["node"];
    assert_eq!(history["status"], "REJECTED", "{mine}");
    assert_eq!(
        history["history"][1],
        json!({ "status": "REJECTED", "actor": "SYSTEM", "reason": "checkout did not finish in time" })
    );

    // The key is free again: the customer's retry places the order anew.
    let vars = json!({ "i": { "items": [{ "productId": lamp, "quantity": 2 }], "idempotencyKey": "crash" } });
    let (_, again) = graphql_with(&url, PLACE, vars, Some(&token)).await;
    assert_eq!(again["data"]["placeOrder"]["order"]["status"], "CONFIRMED", "{again}");
    settled(&stack).await;
    assert_eq!(levels(&stack, lamp).await, (3, 0));
    orders.kill();
}
