//! Checkout when products fails: retried with backoff within a deadline, a circuit breaker
//! that opens after repeated failures (then calls fail at once with `retryAfterSeconds`),
//! recovery without a restart, and no second reservation however often an attempt is repeated.
//! Products is real; a fault proxy between orders and products injects the failures.

mod common;

use common::{
    code, product,
    shop::{levels, place, placed_id, reservations, settled},
};
use tessera::SUBGRAPHS;
use tessera_kit::config::CallConfig;
use tessera_testkit::{TestStack, eventually, fault_proxy::FaultProxy, spawn_configured, test_bus};
use uuid::Uuid;

/// The whole stack, orders reaching products through `proxy`, with short deadlines.
async fn stack(proxy: &FaultProxy) -> TestStack {
    stack_with(proxy, |_| {}).await
}

async fn stack_with(proxy: &FaultProxy, more: impl FnOnce(&mut tessera_kit::config::Config)) -> TestStack {
    let url = proxy.url();
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        more(c);
        c.products.url = Some(url);
        c.services.calls = CallConfig {
            attempt_timeout_ms: 500,
            deadline_ms: 1_500,
            retry_backoff_ms: 20,
            breaker_failures: 3,
            breaker_open_ms: 700,
        };
    })
    .await;
    proxy.point_at(&stack.subgraph("products").url(""));
    stack
}

#[tokio::test]
async fn a_failing_catalogue_opens_the_breaker_so_checkout_fails_fast_and_recovers_without_a_restart() {
    let proxy = FaultProxy::start().await;
    let stack = stack(&proxy).await;
    let token = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let pen = product(&stack, "Pen", 250, 5).await;

    proxy.fail_next(usize::MAX);
    let first = place(&stack, &token, "k1", &[(pen, 1)]).await;
    assert_eq!(code(&first), "SERVICE_UNAVAILABLE", "{first}");
    assert!(first["errors"][0]["extensions"]["retryAfterSeconds"].as_i64().is_some_and(|s| s >= 1), "{first}");
    let tried = proxy.arrived();
    assert!(tried >= 3, "transient failures are retried: {tried} attempts");

    let second = place(&stack, &token, "k2", &[(pen, 1)]).await;
    assert_eq!(code(&second), "SERVICE_UNAVAILABLE", "{second}");
    assert_eq!(proxy.arrived(), tried, "with the breaker open no request goes to products at all");

    // Products stopped altogether: connections are refused.
    proxy.fail_next(0);
    proxy.stop();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let refused = place(&stack, &token, "k1", &[(pen, 1)]).await;
    assert_eq!(code(&refused), "SERVICE_UNAVAILABLE", "{refused}");

    // Back again: the same key now places the order it promised, once.
    proxy.restart().await;
    eventually("checkout works again once products is back", || async {
        place(&stack, &token, "k1", &[(pen, 1)]).await["data"]["placeOrder"]["order"]["status"] == "CONFIRMED"
    })
    .await;
    let answer = place(&stack, &token, "k1", &[(pen, 1)]).await;
    assert_eq!(
        placed_id(&answer).to_string(),
        first["errors"][0]["extensions"]["orderId"].as_str().expect("an order id"),
        "the order the first attempt wrote"
    );
    settled(&stack).await;
    assert_eq!(levels(&stack, pen).await, (4, 0));
    assert_eq!(reservations(&stack).await, [("COMMITTED".to_owned(), 1)]);
}

#[tokio::test]
async fn two_server_errors_then_success_make_one_order_with_one_reservation_on_one_kept_token() {
    let proxy = FaultProxy::start().await;
    let stack = stack(&proxy).await;
    let token = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let mug = product(&stack, "Mug", 1200, 5).await;
    let auth_before = stack.subgraph("auth").request_count(); // the router's composition asked for its SDL

    proxy.fail_next(2);
    let body = place(&stack, &token, "k", &[(mug, 2)]).await;
    assert_eq!(body["data"]["placeOrder"]["order"]["status"], "CONFIRMED", "{body}");
    settled(&stack).await;
    assert_eq!(proxy.arrived(), 4, "two failed reservations, the third that held, then the commit");
    assert_eq!(levels(&stack, mug).await, (3, 0), "taken once");
    assert_eq!(reservations(&stack).await, [("COMMITTED".to_owned(), 1)]);

    // One service token served every call so far, and serves the next order too.
    let tokens_fetched = stack.subgraph("auth").request_count() - auth_before;
    assert_eq!(tokens_fetched, 1, "one POST to auth: the token, kept between calls");
    place(&stack, &token, "k2", &[(mug, 1)]).await;
    settled(&stack).await;
    assert_eq!(stack.subgraph("auth").request_count() - auth_before, 1, "the kept token is reused");

    // One service token served every call so far, and serves the next order too.
    let tokens_fetched = stack.subgraph("auth").request_count() - auth_before;
    assert_eq!(tokens_fetched, 1, "one POST to auth: the token, kept between calls");
    place(&stack, &token, "k2", &[(mug, 1)]).await;
    settled(&stack).await;
    assert_eq!(stack.subgraph("auth").request_count() - auth_before, 1, "the kept token is reused");

    // A 200 carrying the subgraph's own INTERNAL error (its database down) is retried like a 500.
    let internal = r#"{"data":null,"errors":[{"message":"Something went wrong","extensions":{"code":"INTERNAL"}}]}"#;
    proxy.fail_next_with(1, 200, internal);
    let retried = place(&stack, &token, "k3", &[(mug, 1)]).await;
    assert_eq!(retried["data"]["placeOrder"]["order"]["status"], "CONFIRMED", "{retried}");
}

#[tokio::test]
async fn a_confirmed_order_whose_reservation_expired_before_its_commit_is_cancelled_not_shipped() {
    let proxy = FaultProxy::start().await;
    let stack = stack_with(&proxy, |c| {
        c.catalogue.reservation_ttl_seconds = 1;
        c.checkout.sweep_interval_seconds = 1;
    })
    .await;
    let token = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let vase = product(&stack, "Vase", 3000, 2).await;

    // Products takes reservations but, for a while, no commit gets through.
    proxy.fail_requests_containing(Some("commitReservation"));
    let body = place(&stack, &token, "k", &[(vase, 1)]).await;
    assert_eq!(body["data"]["placeOrder"]["order"]["status"], "CONFIRMED", "{body}");
    let id = placed_id(&body);
    eventually("products' sweep releases the expired reservation", || async {
        reservations(&stack).await == [("RELEASED".to_owned(), 1)]
    })
    .await;
    proxy.fail_requests_containing(None);

    let read = format!("{{ order(id: \"{id}\") {{ status history {{ status actor reason }} }} }}");
    eventually("orders' sweep learns the commit came too late", || async {
        common::gql(&stack, &read, serde_json::json!({}), Some(&token)).await["data"]["order"]["status"] == "CANCELLED"
    })
    .await;
    let order = common::gql(&stack, &read, serde_json::json!({}), Some(&token)).await;
    assert_eq!(
        order["data"]["order"]["history"][2],
        serde_json::json!({ "status": "CANCELLED", "actor": "SYSTEM", "reason": "its stock reservation expired before it was committed" })
    );
    assert_eq!(levels(&stack, vase).await, (2, 0), "nothing sold without its reservation, nothing left held");
}
