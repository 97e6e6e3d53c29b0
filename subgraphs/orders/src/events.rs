//! The events orders emit through its outbox. `OrderPlaced` and `OrderStatusChanged` keep the
//! payload notifications consumes (`orderId`, `userId`, `status`); fields are only ever added.

use serde_json::{Value, json};
use tessera_kit::bus::Event;

use crate::{products::ReservedLine, store::Order};

pub const ORDER_PLACED: &str = "OrderPlaced";
pub const ORDER_STATUS_CHANGED: &str = "OrderStatusChanged";

fn key(order: &Order) -> Value {
    json!({ "__typename": "Order", "id": order.id })
}

/// A confirmed order, with what it holds (the lines products reserved for it).
pub fn placed(order: &Order, items: &[ReservedLine]) -> Event {
    let items: Vec<Value> =
        items.iter().map(|i| json!({ "productId": i.product_id, "quantity": i.quantity })).collect();
    Event::new(
        ORDER_PLACED,
        json!({
            "orderId": order.id,
            "userId": order.user_id,
            "status": order.status,
            "number": order.number,
            "version": order.version,
            "total": { "amount": order.total_cents, "currency": order.currency },
            "items": items,
            "entities": [key(order)],
        }),
    )
}

/// Any later move; `previous` is where it came from.
pub fn status_changed(order: &Order, previous: &str) -> Event {
    Event::new(
        ORDER_STATUS_CHANGED,
        json!({
            "orderId": order.id,
            "userId": order.user_id,
            "status": order.status,
            "previousStatus": previous,
            "number": order.number,
            "version": order.version,
            "entities": [key(order)],
        }),
    )
}
