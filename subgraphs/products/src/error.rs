//! The products subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use std::sync::Arc;

use async_graphql::Value;
use tessera_kit::{ApiError, ErrorCode, error::is_unique_violation};

use crate::{domain::Problems, store::reservations::Shortage};

#[derive(Debug)]
pub enum ProductsError {
    /// Bad input fields, every one named.
    Invalid(Problems),
    NotFound,
    /// The product changed since the version the client edited; `current` is the version now.
    VersionConflict {
        current: i64,
    },
    /// Another product has this SKU.
    SkuTaken,
    /// The product is in a status the change does not apply to (editing an archived product,
    /// restoring one that is not archived).
    WrongStatus {
        status: String,
        wanted: &'static str,
    },
    /// Removing more units than there are.
    NotEnoughStock {
        stock: i64,
    },
    /// Not every line of a reservation could be held: nothing was.
    OutOfStock(Vec<Shortage>),
    ReservationNotFound,
    /// This reservation id was used for other items.
    ReservationMismatch,
    /// The reservation is already in the other final state, or expired.
    ReservationClosed {
        state: String,
    },
    Database(Arc<sqlx::Error>),
}

/// The only unique constraint a write can break is the SKU's: reservation ids insert with
/// `ON CONFLICT DO NOTHING`, and category and item lines are deduplicated before they are written.
impl From<sqlx::Error> for ProductsError {
    fn from(e: sqlx::Error) -> Self {
        if is_unique_violation(&e) { Self::SkuTaken } else { Self::Database(Arc::new(e)) }
    }
}

impl From<Problems> for ProductsError {
    fn from(p: Problems) -> Self {
        Self::Invalid(p)
    }
}

impl From<ProductsError> for ApiError {
    fn from(e: ProductsError) -> Self {
        match e {
            ProductsError::Invalid(problems) => ApiError::bad_fields(&problems.0),
            ProductsError::NotFound => ApiError::not_found("There is no product with this id."),
            ProductsError::VersionConflict { current } => ApiError::version_conflict("product", current),
            ProductsError::SkuTaken => ApiError {
                field: Some("sku".into()),
                ..ApiError::new(ErrorCode::Conflict, "Another product already has this SKU: choose another.")
            },
            ProductsError::WrongStatus { status, wanted } => {
                ApiError::new(ErrorCode::Conflict, format!("This product is {status}; this change needs it {wanted}."))
                    .with("status", status)
            }
            ProductsError::NotEnoughStock { stock } => ApiError::bad_input(
                "delta",
                format!("Only {stock} units are in stock: you cannot remove more than that."),
            )
            .with("stock", stock),
            ProductsError::OutOfStock(short) => {
                let each: Vec<String> = short
                    .iter()
                    .map(|s| format!("{} ({} wanted, {} left)", s.product_id, s.requested, s.available))
                    .collect();
                let items: Vec<Value> = short
                    .iter()
                    .map(|s| {
                        let mut item = async_graphql::indexmap::IndexMap::new();
                        item.insert(async_graphql::Name::new("productId"), Value::from(s.product_id.to_string()));
                        item.insert(async_graphql::Name::new("requested"), Value::from(s.requested));
                        item.insert(async_graphql::Name::new("available"), Value::from(s.available));
                        Value::Object(item)
                    })
                    .collect();
                ApiError::new(
                    ErrorCode::OutOfStock,
                    format!("Not enough stock, so nothing was reserved: {}.", each.join(", ")),
                )
                .with("items", items)
            }
            ProductsError::ReservationNotFound => ApiError::not_found("There is no reservation with this id."),
            ProductsError::ReservationMismatch => ApiError::new(
                ErrorCode::Conflict,
                "This reservation id was used for other items: use a new id for a new reservation.",
            ),
            ProductsError::ReservationClosed { state } => {
                ApiError::new(ErrorCode::Conflict, format!("This reservation is {state}: it cannot change now."))
                    .with("state", state)
            }
            ProductsError::Database(e) => ApiError::internal(anyhow::anyhow!("{e}")),
        }
    }
}

impl From<ProductsError> for async_graphql::Error {
    fn from(e: ProductsError) -> Self {
        ApiError::from(e).into()
    }
}
