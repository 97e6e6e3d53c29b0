//! Checkout helpers: placing orders through the router and reading stock where products keeps it.

use serde_json::{Value, json};
use tessera_kit::on_db;
use tessera_testkit::TestStack;
use uuid::Uuid;

pub const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id number status \
    total { amount currency } subtotal { amount currency } items { quantity name unitPrice { amount currency } \
    product { id name } } history { status actor } } } }";

/// `placeOrder` through the router: `items` as `[(product, quantity)]`.
pub async fn place(stack: &TestStack, token: &str, key: &str, items: &[(Uuid, i64)]) -> Value {
    let items: Vec<Value> = items.iter().map(|(p, q)| json!({ "productId": p, "quantity": q })).collect();
    super::gql(stack, PLACE, json!({ "i": { "items": items, "idempotencyKey": key } }), Some(token)).await
}

/// The placed order's id, or a panic showing the answer.
pub fn placed_id(body: &Value) -> Uuid {
    body["data"]["placeOrder"]["order"]["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no order placed: {body}"))
}

/// `(stock, reserved)` of a product, read from the products subgraph's own database.
pub async fn levels(stack: &TestStack, product: Uuid) -> (i64, i64) {
    let db = &stack.subgraph("products").rt.db;
    on_db!(db, |pool| sqlx::query_as("SELECT stock, reserved FROM products WHERE id = $1")
        .bind(product)
        .fetch_one(pool)
        .await)
    .expect("the product reads")
}

/// The states of every reservation products holds, by state.
pub async fn reservations(stack: &TestStack) -> Vec<(String, i64)> {
    let db = &stack.subgraph("products").rt.db;
    on_db!(db, |pool| sqlx::query_as(
        "SELECT CASE WHEN returned_at IS NULL THEN state ELSE 'RETURNED' END AS s, COUNT(*) FROM reservations GROUP BY s ORDER BY s"
    )
    .fetch_all(pool)
    .await)
    .expect("reservations read")
}

/// An active product in `currency` with `stock` units.
pub async fn product_in(stack: &TestStack, name: &str, cents: i64, currency: &str, stock: i64) -> Uuid {
    let id = super::product(stack, name, cents, stock).await;
    let db = &stack.subgraph("products").rt.db;
    on_db!(db, |pool| sqlx::query("UPDATE products SET currency = $2 WHERE id = $1")
        .bind(id)
        .bind(currency)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("the currency changes");
    id
}

/// Waits until no reservation is held: every confirmed order's commit, which runs beside the
/// answer to `placeOrder`, has reached products.
pub async fn settled(stack: &TestStack) {
    tessera_testkit::eventually("every reservation is committed or released", || async {
        reservations(stack).await.iter().all(|(state, _)| state != "HELD")
    })
    .await;
}
