//! The orders subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use std::time::Duration;

use tessera_kit::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::domain::Problems;

#[derive(Debug)]
pub enum OrdersError {
    /// Bad input fields, every one named.
    Invalid(Problems),
    NotFound,
    /// This idempotency key placed an order of other items.
    KeyReused,
    /// Over `checkout.orders_per_user_per_hour`.
    TooManyOrders,
    /// Products had too little of these (`items` as products named them); the order is kept
    /// `REJECTED`.
    OutOfStock {
        order: Uuid,
        items: serde_json::Value,
    },
    /// The items are priced in more than one currency; the order is kept `REJECTED`.
    MixedCurrencies {
        order: Uuid,
        currencies: Vec<String>,
    },
    /// Products could not be reached in time, or its breaker is open.
    Unavailable {
        retry_after: Duration,
        order: Option<Uuid>,
    },
    /// The order is not where this move starts from.
    IllegalMove {
        current: String,
        wanted: String,
    },
    VersionConflict {
        current: i64,
    },
    Database(sqlx::Error),
    /// Products answered something it should not have (logged, never shown).
    Unexpected(anyhow::Error),
}

impl From<sqlx::Error> for OrdersError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<Problems> for OrdersError {
    fn from(p: Problems) -> Self {
        Self::Invalid(p)
    }
}

impl From<OrdersError> for ApiError {
    fn from(e: OrdersError) -> Self {
        match e {
            OrdersError::Invalid(problems) => ApiError::bad_fields(&problems.0),
            OrdersError::NotFound => ApiError::not_found("There is no order with this id."),
            OrdersError::KeyReused => ApiError {
                field: Some("idempotencyKey".into()),
                ..ApiError::new(
                    ErrorCode::Conflict,
                    "This idempotency key already placed an order of other items: use a new key for a new order.",
                )
            },
            OrdersError::TooManyOrders => ApiError::new(
                ErrorCode::RateLimited,
                "You placed many orders in the last hour: wait a while before placing another.",
            ),
            OrdersError::OutOfStock { order, items } => ApiError::new(
                ErrorCode::OutOfStock,
                "Not enough stock for some items, so the order was not placed: see `items` for what is left.",
            )
            .with("items", async_graphql::Value::from_json(items).unwrap_or_default())
            .with("orderId", order.to_string()),
            OrdersError::MixedCurrencies { order, currencies } => ApiError {
                field: Some("items".into()),
                ..ApiError::new(
                    ErrorCode::BadUserInput,
                    format!(
                        "These items are priced in {}: one order is paid in one currency, so order them separately.",
                        currencies.join(" and ")
                    ),
                )
            }
            .with("currencies", currencies)
            .with("orderId", order.to_string()),
            OrdersError::Unavailable { retry_after, order } => {
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as i64;
                let e = ApiError::new(
                    ErrorCode::ServiceUnavailable,
                    format!(
                        "The catalogue cannot be reached right now, so the order is not placed yet. Try again \
                         in {seconds} s with the same idempotency key: it will not be placed twice."
                    ),
                )
                .with("retryAfterSeconds", seconds);
                match order {
                    Some(order) => e.with("orderId", order.to_string()),
                    None => e,
                }
            }
            OrdersError::IllegalMove { current, wanted } => ApiError::new(
                ErrorCode::Conflict,
                format!("This order is {current}: it cannot become {wanted} from there."),
            )
            .with("currentStatus", current),
            OrdersError::VersionConflict { current } => ApiError::version_conflict("order", current),
            OrdersError::Database(e) => ApiError::internal(e),
            OrdersError::Unexpected(e) => ApiError::internal(e),
        }
    }
}

impl From<OrdersError> for async_graphql::Error {
    fn from(e: OrdersError) -> Self {
        ApiError::from(e).into()
    }
}
