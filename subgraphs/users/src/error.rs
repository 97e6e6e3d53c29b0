//! The users subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use tessera_kit::ApiError;

#[derive(Debug)]
pub enum UsersError {
    Database(sqlx::Error),
}

impl From<sqlx::Error> for UsersError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<UsersError> for async_graphql::Error {
    fn from(e: UsersError) -> Self {
        match e {
            UsersError::Database(e) => ApiError::internal(e).into(),
        }
    }
}
