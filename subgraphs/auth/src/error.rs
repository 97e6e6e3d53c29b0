//! The auth subgraph's errors, each mapped to a stable `extensions.code`.
//!
//! No `Display` on purpose: async-graphql turns any `Display` type into an error carrying just
//! its message, which would bypass the code mapping below.

use tessera_kit::ApiError;

#[derive(Debug)]
pub enum AuthError {
    Database(sqlx::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<AuthError> for async_graphql::Error {
    fn from(e: AuthError) -> Self {
        ApiError::from(e).into()
    }
}
