//! `Order` and what hangs off it: its lines (each pointing at the `Product` entity), its
//! history, and the `User` it belongs to.

use async_graphql::{ComplexObject, Context, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::ApiError;
use uuid::Uuid;

use crate::{
    domain::Status,
    loader::{HistoryLoader, ItemLoader},
    store,
};

pub use tessera_kit::money::Money;

/// A product an order line points at, resolved by the products subgraph (`name`, `price`, …).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Product {
    pub id: ID,
}

/// A reference to the `User` entity (profile fields come from the users subgraph).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

/// Who made a change to an order.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrderActor {
    /// The order's owner (placing or cancelling it).
    Customer,
    Admin,
    /// Checkout itself: confirming, rejecting, recovering after a crash.
    System,
}

/// One change of an order's status.
#[derive(SimpleObject)]
pub struct OrderStatusChange {
    pub status: Status,
    pub at: DateTime<Utc>,
    pub actor: OrderActor,
    /// Why, when a reason was given (a cancellation's, a rejection's).
    pub reason: Option<String>,
}

/// A line of an order: the product, how many, and the name and price it had when ordered.
#[derive(SimpleObject)]
pub struct OrderItem {
    pub product: Product,
    pub quantity: i64,
    /// The product's name when it was ordered (empty while the order is pending).
    pub name: String,
    /// The price when it was reserved: what the customer pays, whatever the catalogue says now.
    pub unit_price: Money,
    pub line_total: Money,
}

/// An order. Its owner and admins see it; to anyone else it does not exist.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Order {
    pub id: ID,
    /// Short and readable (`ORD-7K3M-Q9XP`), for emails and support calls.
    pub number: String,
    pub status: Status,
    /// Sum of the lines, in `currency`.
    pub subtotal: Money,
    /// What the customer pays (the subtotal: no shipping or tax yet).
    pub total: Money,
    /// ISO 4217; empty while pending.
    pub currency: String,
    /// Send it back as `expectedVersion` when changing the status.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user: User,
    #[graphql(deprecation = "Use `total { amount }`.")]
    pub total_cents: i64,
    #[graphql(skip)]
    pub uuid: Uuid,
}

#[ComplexObject]
impl Order {
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<OrderItem>, ApiError> {
        let items = ctx.data_unchecked::<ItemLoader>().load_one(self.uuid).await.map_err(ApiError::internal)?;
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(|i| {
                let money = |amount| Money { amount, currency: self.currency.clone() };
                OrderItem {
                    product: Product { id: ID(i.product_id.to_string()) },
                    quantity: i.quantity,
                    name: i.name,
                    unit_price: money(i.unit_price_cents),
                    line_total: money(i.unit_price_cents.saturating_mul(i.quantity)),
                }
            })
            .collect())
    }

    /// Every status it had, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<OrderStatusChange>, ApiError> {
        let changes = ctx.data_unchecked::<HistoryLoader>().load_one(self.uuid).await.map_err(ApiError::internal)?;
        Ok(changes
            .unwrap_or_default()
            .into_iter()
            .map(|c| OrderStatusChange {
                status: Status::parse(&c.status).unwrap_or(Status::Pending),
                at: c.at,
                actor: match c.actor.as_str() {
                    "CUSTOMER" => OrderActor::Customer,
                    "ADMIN" => OrderActor::Admin,
                    _ => OrderActor::System,
                },
                reason: c.reason,
            })
            .collect())
    }
}

impl From<store::Order> for Order {
    fn from(o: store::Order) -> Self {
        let money = |amount| Money { amount, currency: o.currency.clone() };
        Self {
            id: ID(o.id.to_string()),
            number: o.number.clone(),
            status: Status::parse(&o.status).unwrap_or(Status::Pending),
            subtotal: money(o.subtotal_cents),
            total: money(o.total_cents),
            currency: o.currency.clone(),
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
            user: User { id: ID(o.user_id.to_string()) },
            total_cents: o.total_cents,
            uuid: o.id,
        }
    }
}
