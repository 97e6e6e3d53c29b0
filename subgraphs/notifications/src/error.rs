//! The notifications subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use tessera_kit::ApiError;

#[derive(Debug)]
pub enum NotificationsError {
    Database(sqlx::Error),
}

impl From<sqlx::Error> for NotificationsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<NotificationsError> for async_graphql::Error {
    fn from(e: NotificationsError) -> Self {
        match e {
            NotificationsError::Database(e) => ApiError::internal(e).into(),
        }
    }
}
