//! The orders subgraph's SQL, and nothing else.

pub mod keys;
pub mod lists;
pub mod orders;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An order row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Order {
    pub id: Uuid,
    pub number: String,
    pub user_id: Uuid,
    pub status: String,
    pub currency: String,
    pub subtotal_cents: i64,
    pub total_cents: i64,
    /// The call still owed to products for the reservation: `COMMIT`, `RELEASE` or `RETURN`.
    pub settlement: Option<String>,
    pub committed: bool,
    /// The refusal `placeOrder` answered, as JSON.
    pub rejection: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, number, user_id, status, currency, subtotal_cents, total_cents, settlement, committed, \
                           rejection, version, created_at, updated_at";

/// A line of an order: the name and price are products' snapshot, empty while pending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub quantity: i64,
    pub name: String,
    pub unit_price_cents: i64,
}

/// One status change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    pub order_id: Uuid,
    pub version: i64,
    pub status: String,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Who changed an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Customer(Uuid),
    Admin(Uuid),
    /// The saga and its recovery sweep.
    System,
}

impl Actor {
    fn kind(self) -> &'static str {
        match self {
            Actor::Customer(_) => "CUSTOMER",
            Actor::Admin(_) => "ADMIN",
            Actor::System => "SYSTEM",
        }
    }

    fn id(self) -> Option<Uuid> {
        match self {
            Actor::Customer(id) | Actor::Admin(id) => Some(id),
            Actor::System => None,
        }
    }
}

/// The account an anonymized order points at: accounting keeps the order, not the person.
pub const ANONYMOUS: Uuid = Uuid::nil();
