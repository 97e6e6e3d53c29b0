//! The products subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use tessera_kit::ApiError;

#[derive(Debug)]
pub enum ProductsError {
    Database(sqlx::Error),
}

impl From<sqlx::Error> for ProductsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<ProductsError> for async_graphql::Error {
    fn from(e: ProductsError) -> Self {
        match e {
            ProductsError::Database(e) => ApiError::internal(e).into(),
        }
    }
}
