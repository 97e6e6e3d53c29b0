//! The life of an order after checkout, through the router: the owner cancels before shipping
//! (units back in products), an admin ships and delivers it under optimistic locking, illegal
//! moves are refused naming the current status, every change reaches the owner's subscription;
//! and nobody but the owner (or an admin) can see, cancel or list an order, past the router too.

mod common;

use common::{
    code, gql, product, register,
    shop::{levels, place, placed_id, reservations, settled},
};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{eventually, graphql_with, spawn_stack, ws};

const CANCEL: &str = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { status version history { status actor reason } } } }";
const UPDATE: &str =
    "mutation($i: UpdateOrderStatusInput!) { updateOrderStatus(input: $i) { order { status version } } }";

fn version(body: &Value, field: &str) -> i64 {
    body["data"][field]["order"]["version"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test]
async fn an_order_is_cancelled_or_shipped_and_delivered_and_its_owner_hears_of_each_change() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let ada = register(&stack, "ada").await;
    let admin = common::admin(&stack).await;
    let pen = product(&stack, "Pen", 250, 5).await;
    let rt = &stack.subgraph("notifications").rt;
    let before = rt.bus.live_topics();
    let mut socket = ws::subscribe(
        &format!("ws://{}/graphql", stack.router),
        Some(&ada.access),
        "subscription { notificationAdded { kind title order { id status } } }",
    )
    .await;
    eventually("the subscription listens", || async { rt.bus.live_topics() > before }).await;

    // Cancelled by its owner: the sold units come back.
    let first = placed_id(&place(&stack, &ada.access, "one", &[(pen, 2)]).await);
    settled(&stack).await;
    assert_eq!(levels(&stack, pen).await, (3, 0));
    let vars = json!({ "i": { "id": first, "reason": "Ordered twice" } });
    let cancelled = gql(&stack, CANCEL, vars.clone(), Some(&ada.access)).await;
    assert_eq!(cancelled["data"]["cancelOrder"]["order"]["status"], "CANCELLED", "{cancelled}");
    assert_eq!(
        cancelled["data"]["cancelOrder"]["order"]["history"][2],
        json!({ "status": "CANCELLED", "actor": "CUSTOMER", "reason": "Ordered twice" })
    );
    assert_eq!(levels(&stack, pen).await, (5, 0), "the units are back on sale");
    assert_eq!(reservations(&stack).await, [("RETURNED".to_owned(), 1)]);
    let again = gql(&stack, CANCEL, vars, Some(&ada.access)).await;
    assert_eq!(again["data"]["cancelOrder"]["order"]["status"], "CANCELLED", "cancelling twice is harmless: {again}");
    assert_eq!(levels(&stack, pen).await, (5, 0), "and gives nothing back twice");

    // Shipped and delivered by an admin, one version at a time.
    let second = place(&stack, &ada.access, "two", &[(pen, 1)]).await;
    let (id, v) = (placed_id(&second), 2);
    let shipped =
        gql(&stack, UPDATE, json!({ "i": { "id": id, "status": "SHIPPED", "expectedVersion": v } }), Some(&admin))
            .await;
    assert_eq!(shipped["data"]["updateOrderStatus"]["order"]["status"], "SHIPPED", "{shipped}");
    let late = gql(&stack, CANCEL, json!({ "i": { "id": id } }), Some(&ada.access)).await;
    assert_eq!(code(&late), "CONFLICT", "no cancelling after shipping: {late}");
    assert_eq!(late["errors"][0]["extensions"]["currentStatus"], "SHIPPED");
    let stale =
        gql(&stack, UPDATE, json!({ "i": { "id": id, "status": "DELIVERED", "expectedVersion": v } }), Some(&admin))
            .await;
    assert_eq!(code(&stale), "VERSION_CONFLICT", "{stale}");
    let v = version(&shipped, "updateOrderStatus");
    let delivered =
        gql(&stack, UPDATE, json!({ "i": { "id": id, "status": "DELIVERED", "expectedVersion": v } }), Some(&admin))
            .await;
    assert_eq!(delivered["data"]["updateOrderStatus"]["order"]["status"], "DELIVERED", "{delivered}");
    let v = version(&delivered, "updateOrderStatus");
    let backwards =
        gql(&stack, UPDATE, json!({ "i": { "id": id, "status": "SHIPPED", "expectedVersion": v } }), Some(&admin))
            .await;
    assert_eq!(code(&backwards), "CONFLICT", "{backwards}");
    assert_eq!(backwards["errors"][0]["extensions"]["currentStatus"], "DELIVERED");
    let by_customer =
        gql(&stack, UPDATE, json!({ "i": { "id": id, "status": "SHIPPED", "expectedVersion": v } }), Some(&ada.access))
            .await;
    assert_eq!(code(&by_customer), "FORBIDDEN", "{by_customer}");
    settled(&stack).await;
    assert_eq!(levels(&stack, pen).await, (4, 0));

    // Every change reached the owner, each push resolving its order from the orders subgraph.
    let mut titles = Vec::new();
    while titles.len() < 5 {
        let msg = ws::next_json(&mut socket).await.unwrap_or_else(|| panic!("pushes so far: {titles:?}"));
        let pushed = &msg["payload"]["data"]["notificationAdded"];
        if pushed["kind"].as_str().is_some_and(|k| k.starts_with("ORDER_")) {
            assert!(pushed["order"]["status"].is_string(), "the order is resolved: {msg}");
            titles.push(pushed["title"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(
        titles,
        [
            "We received your order",
            "Your order is cancelled",
            "We received your order",
            "Your order is shipped",
            "Your order is delivered"
        ]
    );
}

#[tokio::test]
async fn nobody_but_the_owner_sees_cancels_or_lists_an_order_through_the_router_or_past_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (ada, bob) = (register(&stack, "ada").await, register(&stack, "bob").await);
    common::eventually_profile(&stack, ada.id).await;
    let pen = product(&stack, "Pen", 250, 5).await;
    let order = placed_id(&place(&stack, &ada.access, "mine", &[(pen, 1)]).await);
    let direct = stack.subgraph("orders").url("/graphql");

    let read = format!("{{ order(id: \"{order}\") {{ id }} }}");
    assert_eq!(gql(&stack, &read, json!({}), Some(&bob.access)).await["data"]["order"], Value::Null);
    assert_eq!(graphql_with(&direct, &read, json!({}), Some(&bob.access)).await.1["data"]["order"], Value::Null);
    assert_eq!(gql(&stack, &read, json!({}), Some(&ada.access)).await["data"]["order"]["id"], order.to_string());

    let cancel = json!({ "i": { "id": order } });
    assert_eq!(code(&gql(&stack, CANCEL, cancel.clone(), Some(&bob.access)).await), "NOT_FOUND");
    assert_eq!(code(&graphql_with(&direct, CANCEL, cancel, Some(&bob.access)).await.1), "NOT_FOUND");

    let listed = format!("{{ user(id: \"{}\") {{ username orders {{ totalCount }} }} }}", ada.id);
    let theirs = gql(&stack, &listed, json!({}), Some(&bob.access)).await;
    assert_eq!(theirs["data"]["user"]["username"], "ada", "{theirs}");
    assert_eq!(theirs["data"]["user"]["orders"], Value::Null, "{theirs}");
    assert_eq!(code(&theirs), "FORBIDDEN", "{theirs}");
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders { totalCount } } } }";
    let past =
        graphql_with(&direct, entities, json!({ "r": [{ "__typename": "User", "id": ada.id }] }), Some(&bob.access))
            .await
            .1;
    assert_eq!(code(&past), "FORBIDDEN", "{past}");
    let own = gql(&stack, &listed, json!({}), Some(&ada.access)).await;
    assert_eq!(own["data"]["user"]["orders"]["totalCount"], 1, "{own}");
    let mine =
        gql(&stack, "{ me { orders { totalCount } } myOrders { totalCount } }", json!({}), Some(&bob.access)).await;
    assert_eq!(
        mine["data"],
        json!({ "me": { "orders": { "totalCount": 0 } }, "myOrders": { "totalCount": 0 } }),
        "{mine}"
    );

    let sales = format!("{{ product(id: \"{pen}\") {{ name salesCount }} }}");
    assert_eq!(
        code(&gql(&stack, &sales, json!({}), Some(&ada.access)).await),
        "FORBIDDEN",
        "sales figures are for admins"
    );
    let all = gql(&stack, "{ orders { totalCount } }", json!({}), Some(&ada.access)).await;
    assert_eq!(code(&all), "FORBIDDEN", "{all}");
}
