//! Stock reservations, the service the orders subgraph calls: all or nothing, never below
//! zero under any concurrency, idempotent by id, released when they expire, and reachable only
//! with a client-credentials token, never through the router.

mod common;

use std::time::Duration;

use common::{code, gql, product, token};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, eventually, graphql_with, service_token, spawn_configured, spawn_stack, test_bus};
use uuid::Uuid;

const RESERVE: &str = "mutation($i: ReserveStockInput!) { reserveStock(input: $i) { reservation { id state items { productId quantity unitPrice { amount currency } } } } }";
const COMMIT: &str = "mutation($i: ReservationInput!) { commitReservation(input: $i) { reservation { state } } }";
const RELEASE: &str = "mutation($i: ReservationInput!) { releaseReservation(input: $i) { reservation { state } } }";
const RETURN: &str = "mutation($i: ReservationInput!) { returnReservation(input: $i) { reservation { state } } }";

async fn reserve(stack: &TestStack, token: &str, id: Uuid, items: Value) -> Value {
    let vars = json!({ "i": { "reservationId": id, "items": items } });
    graphql_with(&stack.subgraph("products").url("/graphql"), RESERVE, vars, Some(token)).await.1
}

/// The stock as a signed-in customer reads it through the router (never from the cache).
async fn stock(stack: &TestStack, id: Uuid) -> i64 {
    let customer = token(stack, Uuid::now_v7(), &["customer"]).await;
    let body = gql(stack, &format!("{{ product(id: \"{id}\") {{ stock }} }}"), json!({}), Some(&customer)).await;
    body["data"]["product"]["stock"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test]
async fn fifty_concurrent_reservations_of_one_unit_of_ten_in_stock_give_ten_and_forty_out_of_stock() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let service = service_token(&stack).await;
    let pen = product(&stack, "Pen", 250, 10).await;
    let calls =
        (0..50).map(|_| reserve(&stack, &service, Uuid::now_v7(), json!([{ "productId": pen, "quantity": 1 }])));
    let answers = futures::future::join_all(calls).await;
    let held = answers.iter().filter(|a| a["data"]["reserveStock"]["reservation"]["state"] == "HELD").count();
    let short: Vec<&Value> = answers.iter().filter(|a| code(a) == "OUT_OF_STOCK").collect();
    assert_eq!((held, short.len()), (10, 40), "{answers:?}");
    assert_eq!(short[0]["errors"][0]["extensions"]["items"][0]["available"], 0, "{}", short[0]);
    assert_eq!(stock(&stack, pen).await, 0);
}

#[tokio::test]
async fn a_reservation_is_all_or_nothing_idempotent_by_id_and_ends_once() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let service = service_token(&stack).await;
    let (pen, ink) = (product(&stack, "Pen", 250, 5).await, product(&stack, "Ink", 900, 1).await);

    let greedy = reserve(
        &stack,
        &service,
        Uuid::now_v7(),
        json!([{ "productId": pen, "quantity": 2 }, { "productId": ink, "quantity": 3 }]),
    )
    .await;
    assert_eq!(code(&greedy), "OUT_OF_STOCK", "{greedy}");
    assert_eq!(
        greedy["errors"][0]["extensions"]["items"],
        json!([{ "productId": ink.to_string(), "requested": 3, "available": 1 }])
    );
    assert_eq!((stock(&stack, pen).await, stock(&stack, ink).await), (5, 1), "nothing was held");

    let id = Uuid::now_v7();
    let items = json!([{ "productId": pen, "quantity": 2 }]);
    let first = reserve(&stack, &service, id, items.clone()).await;
    let retried = reserve(&stack, &service, id, items).await;
    assert_eq!(first["data"], retried["data"], "a retry answers the same reservation");
    assert_eq!(
        first["data"]["reserveStock"]["reservation"]["items"][0]["unitPrice"],
        json!({ "amount": 250, "currency": "EUR" })
    );
    assert_eq!(stock(&stack, pen).await, 3, "reserved once");
    let other = reserve(&stack, &service, id, json!([{ "productId": pen, "quantity": 1 }])).await;
    assert_eq!(code(&other), "CONFLICT", "{other}");

    let subgraph = stack.subgraph("products").url("/graphql");
    let end = |query: &'static str| {
        let (subgraph, service) = (subgraph.clone(), service.clone());
        async move { graphql_with(&subgraph, query, json!({ "i": { "reservationId": id } }), Some(&service)).await.1 }
    };
    let committed = end(COMMIT).await;
    assert_eq!(committed["data"]["commitReservation"]["reservation"]["state"], "COMMITTED", "{committed}");
    assert_eq!(end(COMMIT).await["data"], committed["data"], "committing twice is one commit");
    assert_eq!(code(&end(RELEASE).await), "CONFLICT", "a sale is not given back by release");
    assert_eq!(stock(&stack, pen).await, 3);
    for _ in 0..2 {
        let returned = end(RETURN).await;
        assert_eq!(returned["data"]["returnReservation"]["reservation"]["state"], "RETURNED", "{returned}");
    }
    assert_eq!(stock(&stack, pen).await, 5, "a returned sale puts its units back, once");
    assert_eq!(end(RELEASE).await["errors"][0]["extensions"]["state"], "RETURNED");

    let released_id = Uuid::now_v7();
    reserve(&stack, &service, released_id, json!([{ "productId": ink, "quantity": 1 }])).await;
    assert_eq!(stock(&stack, ink).await, 0);
    for _ in 0..2 {
        let vars = json!({ "i": { "reservationId": released_id } });
        let released = graphql_with(&subgraph, RELEASE, vars, Some(&service)).await.1;
        assert_eq!(released["data"]["releaseReservation"]["reservation"]["state"], "RELEASED", "{released}");
    }
    assert_eq!(stock(&stack, ink).await, 1, "released once");
    let never_sold =
        graphql_with(&subgraph, RETURN, json!({ "i": { "reservationId": released_id } }), Some(&service)).await.1;
    assert_eq!(never_sold["errors"][0]["extensions"]["state"], "RELEASED", "only a sale can be returned: {never_sold}");
    assert_eq!(stock(&stack, ink).await, 1);
}

#[tokio::test]
async fn an_expired_reservation_is_released_by_the_sweep() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.catalogue.reservation_ttl_seconds = 1).await;
    let service = service_token(&stack).await;
    let pen = product(&stack, "Pen", 250, 4).await;
    let id = Uuid::now_v7();
    reserve(&stack, &service, id, json!([{ "productId": pen, "quantity": 3 }])).await;
    assert_eq!(stock(&stack, pen).await, 1);
    eventually("the sweep gives the units back", || async { stock(&stack, pen).await == 4 }).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let late = graphql_with(
        &stack.subgraph("products").url("/graphql"),
        COMMIT,
        json!({ "i": { "reservationId": id } }),
        Some(&service),
    )
    .await
    .1;
    assert_eq!(code(&late), "CONFLICT", "{late}");
    assert_eq!(late["errors"][0]["extensions"]["state"], "RELEASED");
}

#[tokio::test]
async fn only_a_client_credentials_token_may_reserve_and_never_through_the_router() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let pen = product(&stack, "Pen", 250, 10).await;
    let items = json!([{ "productId": pen, "quantity": 1 }]);

    let schema = gql(&stack, "{ __schema { mutationType { fields { name } } } }", json!({}), None).await;
    let names = schema["data"]["__schema"]["mutationType"]["fields"].to_string();
    assert!(names.contains("createProduct") && !names.contains("reserveStock"), "{names}");
    let admin = token(&stack, Uuid::now_v7(), &["admin", "customer"]).await;
    let routed =
        gql(&stack, RESERVE, json!({ "i": { "reservationId": Uuid::now_v7(), "items": items } }), Some(&admin)).await;
    assert_eq!(code(&routed), "GRAPHQL_VALIDATION_FAILED", "{routed}");

    for user in [admin, token(&stack, Uuid::now_v7(), &["customer"]).await] {
        let direct = reserve(&stack, &user, Uuid::now_v7(), items.clone()).await;
        assert_eq!(code(&direct), "FORBIDDEN", "{direct}");
    }
    let service = service_token(&stack).await;
    let accepted = reserve(&stack, &service, Uuid::now_v7(), items).await;
    assert_eq!(accepted["data"]["reserveStock"]["reservation"]["state"], "HELD", "{accepted}");

    // The service token is for products only: the router and the other subgraphs refuse it.
    let (status, _) = graphql_with(&stack.router_url("/graphql"), "{ signedIn }", json!({}), Some(&service)).await;
    assert_eq!(status, 401);
    let users =
        graphql_with(&stack.subgraph("users").url("/graphql"), "{ __typename }", json!({}), Some(&service)).await;
    assert_eq!(code(&users.1), "UNAUTHENTICATED", "{:?}", users.1);
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_wrong_secret_an_unknown_client_and_other_grants() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let url = stack.subgraph("auth").url("/oauth/token");
    let http = reqwest::Client::new();
    let ask = |client: &'static str, secret: &'static str, grant: &'static str| {
        http.post(&url).basic_auth(client, Some(secret)).form(&[("grant_type", grant)]).send()
    };
    for (client, secret, grant, status, error) in [
        ("orders", "not-the-secret", "client_credentials", 401, "invalid_client"),
        ("stranger", "x", "client_credentials", 401, "invalid_client"),
        ("orders", "x", "password", 400, "unsupported_grant_type"),
    ] {
        let response = ask(client, secret, grant).await.expect("auth answers");
        assert_eq!(response.status().as_u16(), status, "{client} {grant}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(response.headers().contains_key("x-request-id"), "the endpoint is traced like the others");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], error, "{body}");
    }
}
