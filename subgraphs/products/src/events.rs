//! The events the catalogue emits through its outbox. Each carries the entity's key
//! (`{"__typename": "Product", "id": …}`), which is what the router's response cache drops
//! cached answers by.

use serde_json::{Value, json};
use tessera_kit::bus::Event;

use uuid::Uuid;

use crate::store::Product;

pub const PRODUCT_CREATED: &str = "ProductCreated";
pub const PRODUCT_UPDATED: &str = "ProductUpdated";
pub const STOCK_CHANGED: &str = "StockChanged";

fn key(id: Uuid) -> Value {
    json!({ "__typename": "Product", "id": id })
}

pub fn created(p: &Product) -> Event {
    Event::new(
        PRODUCT_CREATED,
        json!({ "productId": p.id, "sku": p.sku, "version": p.version, "entities": [key(p.id)] }),
    )
}

/// `fields` names the GraphQL fields that changed (`price`, `status`, …).
pub fn updated(p: &Product, fields: &[&str]) -> Event {
    Event::new(
        PRODUCT_UPDATED,
        json!({ "productId": p.id, "version": p.version, "fields": fields, "status": p.status, "entities": [key(p.id)] }),
    )
}

/// Stock of `id` moved by `delta` (an admin's adjustment, a reservation taken or given back);
/// `levels` is `(stock, reserved)` after the change.
pub fn stock_changed(id: Uuid, delta: i64, reason: &str, levels: (i64, i64)) -> Event {
    Event::new(
        STOCK_CHANGED,
        json!({
            "productId": id,
            "stock": levels.0,
            "reserved": levels.1,
            "delta": delta,
            "reason": reason,
            "entities": [key(id)],
        }),
    )
}
