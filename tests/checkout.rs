//! Checkout through the router: an order placed for real products, prices and names from the
//! catalogue, stock taken in products' own database, `OrderPlaced` heard by notifications and
//! pushed to a subscriber; no oversell under contention; one order per idempotency key.

mod common;

use common::{
    code, gql, product, register,
    shop::{levels, place, placed_id, product_in, reservations, settled},
};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{eventually, spawn_configured, spawn_stack, test_bus, ws};
use uuid::Uuid;

#[tokio::test]
async fn a_customer_orders_two_products_and_stock_notifications_and_the_subscriber_all_see_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let (pen, ink) = (product(&stack, "Fountain pen", 2500, 5).await, product(&stack, "Ink", 900, 3).await);
    let rt = &stack.subgraph("notifications").rt;
    let before = rt.bus.live_topics();
    let mut socket = ws::subscribe(
        &format!("ws://{}/graphql", stack.router),
        Some(&ada.access),
        "subscription { notificationAdded { kind order { number status total { amount } } } }",
    )
    .await;
    eventually("the subscription listens", || async { rt.bus.live_topics() > before }).await;

    let body = place(&stack, &ada.access, "checkout-1", &[(pen, 2), (ink, 1)]).await;
    let order = &body["data"]["placeOrder"]["order"];
    assert_eq!(order["status"], "CONFIRMED", "{body}");
    assert_eq!(order["total"], json!({ "amount": 5900, "currency": "EUR" }));
    assert_eq!(order["subtotal"], order["total"]);
    let mut names: Vec<&str> = order["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["product"]["name"].as_str().unwrap_or_default())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Fountain pen", "Ink"], "the router resolved each line's product from products: {body}");
    let pen_line =
        order["items"].as_array().expect("items").iter().find(|i| i["name"] == "Fountain pen").expect("the pen");
    assert_eq!(pen_line["unitPrice"], json!({ "amount": 2500, "currency": "EUR" }), "the catalogue's price snapshot");
    assert_eq!(
        order["history"],
        json!([{ "status": "PENDING", "actor": "CUSTOMER" }, { "status": "CONFIRMED", "actor": "SYSTEM" }])
    );
    let number = order["number"].as_str().expect("a number");
    assert!(number.starts_with("ORD-"), "{number}");

    settled(&stack).await;
    assert_eq!(
        levels(&stack, pen).await,
        (3, 0),
        "stock dropped in products' database and the reservation is committed"
    );
    assert_eq!(levels(&stack, ink).await, (2, 0));
    assert_eq!(reservations(&stack).await, [("COMMITTED".to_owned(), 1)]);

    // The welcome may come first; the order's notification follows.
    let mut pushed = Value::Null;
    for _ in 0..3 {
        let msg = ws::next_json(&mut socket).await.expect("a push");
        if msg["payload"]["data"]["notificationAdded"]["kind"] == "ORDER_PLACED" {
            pushed = msg["payload"]["data"]["notificationAdded"].clone();
            break;
        }
    }
    assert_eq!(
        pushed["order"],
        json!({ "number": number, "status": "CONFIRMED", "total": { "amount": 5900 } }),
        "{pushed}"
    );
    let listed = gql(
        &stack,
        "{ myOrders { totalCount edges { node { number items { quantity } } } } }",
        json!({}),
        Some(&ada.access),
    )
    .await;
    assert_eq!(listed["data"]["myOrders"]["totalCount"], 1, "{listed}");
    assert_eq!(listed["data"]["myOrders"]["edges"][0]["node"]["number"], number);

    let export = "{ exportMyData { orders { number total { amount } items { name quantity lineTotal { amount } } history { status } } } }";
    let exported = gql(&stack, export, json!({}), Some(&ada.access)).await;
    let mut orders = exported["data"]["exportMyData"]["orders"].clone();
    orders[0]["items"].as_array_mut().expect("items").sort_by_key(|i| i["name"].to_string());
    assert_eq!(
        orders,
        json!([{ "number": number, "total": { "amount": 5900 },
            "items": [{ "name": "Fountain pen", "quantity": 2, "lineTotal": { "amount": 5000 } }, { "name": "Ink", "quantity": 1, "lineTotal": { "amount": 900 } }],
            "history": [{ "status": "PENDING" }, { "status": "CONFIRMED" }] }]),
        "the export holds lines, history and totals: {exported}"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_orders_by_twenty_users_for_ten_units_confirm_exactly_ten() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let lamp = product(&stack, "Lamp", 4000, 10).await;
    let mut users = Vec::new();
    for _ in 0..20 {
        users.push(common::token(&stack, Uuid::now_v7(), &["customer"]).await);
    }
    let calls = (0..100).map(|i| {
        let token = users[i % 20].clone();
        let stack = &stack;
        async move { place(stack, &token, &format!("k-{i}"), &[(lamp, 1)]).await }
    });
    let answers = futures::future::join_all(calls).await;
    let confirmed = answers.iter().filter(|a| a["data"]["placeOrder"]["order"]["status"] == "CONFIRMED").count();
    let short: Vec<&Value> = answers.iter().filter(|a| code(a) == "OUT_OF_STOCK").collect();
    assert_eq!((confirmed, short.len()), (10, 90), "every call is confirmed or out of stock: {answers:?}");
    let item = &short[0]["errors"][0]["extensions"]["items"][0];
    assert_eq!(
        (item["productId"].as_str(), item["available"].as_i64()),
        (Some(lamp.to_string().as_str()), Some(0)),
        "{}",
        short[0]
    );
    settled(&stack).await;
    assert_eq!(levels(&stack, lamp).await, (0, 0), "stock ends at 0, nothing left reserved");
    assert_eq!(
        reservations(&stack).await,
        [("COMMITTED".to_owned(), 10)],
        "one committed reservation per confirmed order"
    );
    let admin = common::admin(&stack).await;
    let counts = gql(
        &stack,
        "{ confirmed: orders(status: CONFIRMED) { totalCount } rejected: orders(status: REJECTED) { totalCount } }",
        json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(
        counts["data"],
        json!({ "confirmed": { "totalCount": 10 }, "rejected": { "totalCount": 90 } }),
        "refused orders are kept as REJECTED"
    );
    let sold = gql(&stack, &format!("{{ product(id: \"{lamp}\") {{ salesCount }} }}"), json!({}), Some(&admin)).await;
    assert_eq!(sold["data"]["product"]["salesCount"], 10, "{sold}");
}

#[tokio::test]
async fn ten_concurrent_orders_with_one_key_make_one_order_and_one_reservation() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let token = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let mug = product(&stack, "Mug", 1200, 50).await;
    let lines = [(mug, 2)];
    let calls = (0..10).map(|_| place(&stack, &token, "same-key", &lines));
    let answers = futures::future::join_all(calls).await;
    let ids: std::collections::BTreeSet<Uuid> = answers.iter().map(placed_id).collect();
    assert_eq!(ids.len(), 1, "one order: {answers:?}");
    assert!(answers.iter().all(|a| a["data"]["placeOrder"]["order"]["status"] == "CONFIRMED"), "{answers:?}");
    settled(&stack).await;
    assert_eq!(levels(&stack, mug).await, (48, 0), "reserved once");
    assert_eq!(reservations(&stack).await, [("COMMITTED".to_owned(), 1)]);

    let again = place(&stack, &token, "same-key", &[(mug, 2)]).await;
    assert_eq!(placed_id(&again), *ids.first().expect("one"), "a later retry answers the same order");
    let other = place(&stack, &token, "same-key", &[(mug, 3)]).await;
    assert_eq!(code(&other), "CONFLICT", "{other}");
    assert_eq!(other["errors"][0]["extensions"]["field"], "idempotencyKey");
    let someone_else = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let theirs = place(&stack, &someone_else, "same-key", &[(mug, 2)]).await;
    assert_ne!(placed_id(&theirs), *ids.first().expect("one"), "keys are per user");
}

#[tokio::test]
async fn bad_orders_are_refused_with_every_problem_named_and_mixed_currencies_are_rejected() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let token = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let (pen, dollar) = (product(&stack, "Pen", 250, 5).await, product_in(&stack, "Cap", 900, "USD", 5).await);

    let bad = place(&stack, &token, "", &[(pen, 0), (pen, 1)]).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    let fields: Vec<&str> = bad["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(fields, ["idempotencyKey", "items.0.quantity", "items.1.productId"], "{bad}");
    let empty = place(&stack, &token, "k", &[]).await;
    assert_eq!(code(&empty), "BAD_USER_INPUT", "{empty}");

    let mixed = place(&stack, &token, "mixed", &[(pen, 1), (dollar, 1)]).await;
    assert_eq!(code(&mixed), "BAD_USER_INPUT", "{mixed}");
    assert_eq!(mixed["errors"][0]["extensions"]["currencies"], json!(["EUR", "USD"]));
    assert_eq!(
        (levels(&stack, pen).await, levels(&stack, dollar).await),
        ((5, 0), (5, 0)),
        "the reservation was given back"
    );
    assert_eq!(reservations(&stack).await, [("RELEASED".to_owned(), 1)]);
    let replay = place(&stack, &token, "mixed", &[(pen, 1), (dollar, 1)]).await;
    assert_eq!(
        replay["errors"][0]["extensions"]["orderId"], mixed["errors"][0]["extensions"]["orderId"],
        "a retry answers the same refusal"
    );

    let unknown = place(&stack, &token, "ghost", &[(Uuid::now_v7(), 1)]).await;
    assert_eq!(code(&unknown), "OUT_OF_STOCK", "an unknown product has nothing to sell: {unknown}");
    let anonymous =
        gql(&stack, common::shop::PLACE, json!({ "i": { "items": [], "idempotencyKey": "k" } }), None).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

#[tokio::test]
async fn a_customer_over_the_hourly_budget_is_refused_new_orders_but_replays_still_answer() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.checkout.orders_per_user_per_hour = 3).await;
    let token = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    let pen = product(&stack, "Pen", 250, 100).await;
    let mut first = None;
    for i in 0..3 {
        let id = placed_id(&place(&stack, &token, &format!("k{i}"), &[(pen, 1)]).await);
        first.get_or_insert(id);
    }
    let over = place(&stack, &token, "k3", &[(pen, 1)]).await;
    assert_eq!(code(&over), "RATE_LIMITED", "{over}");
    assert_eq!(
        placed_id(&place(&stack, &token, "k0", &[(pen, 1)]).await),
        first.expect("placed"),
        "a replay is no new order"
    );
    let other = common::token(&stack, Uuid::now_v7(), &["customer"]).await;
    assert!(place(&stack, &other, "k3", &[(pen, 1)]).await.get("errors").is_none(), "the budget is per customer");
    settled(&stack).await;
    assert_eq!(levels(&stack, pen).await, (96, 0));
}
