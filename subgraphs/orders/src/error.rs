//! The orders subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use tessera_kit::ApiError;

#[derive(Debug)]
pub enum OrdersError {
    Database(sqlx::Error),
}

impl From<sqlx::Error> for OrdersError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<OrdersError> for async_graphql::Error {
    fn from(e: OrdersError) -> Self {
        match e {
            OrdersError::Database(e) => ApiError::internal(e).into(),
        }
    }
}
