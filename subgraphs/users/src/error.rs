//! The users subgraph's errors, each mapped to a stable `extensions.code`.
//! No `Display` on purpose (see auth's error.rs): every path to the client goes through `ApiError`.

use std::sync::Arc;

use tessera_kit::ApiError;

use crate::domain::Problems;

#[derive(Debug)]
pub enum UsersError {
    /// Bad input fields, every one named.
    Invalid(Problems),
    /// The profile changed since the version the client edited; `current` is the version now.
    VersionConflict {
        current: i64,
    },
    /// The account was deleted: its token may still verify here (subgraphs do not see
    /// revocations), but nothing of the user may be written again.
    Erased,
    Database(Arc<sqlx::Error>),
}

impl From<sqlx::Error> for UsersError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(Arc::new(e))
    }
}

impl From<Arc<sqlx::Error>> for UsersError {
    fn from(e: Arc<sqlx::Error>) -> Self {
        Self::Database(e)
    }
}

impl From<Problems> for UsersError {
    fn from(p: Problems) -> Self {
        Self::Invalid(p)
    }
}

impl From<UsersError> for ApiError {
    fn from(e: UsersError) -> Self {
        match e {
            UsersError::Invalid(problems) => ApiError::bad_fields(&problems.0),
            UsersError::VersionConflict { current } => ApiError::version_conflict("profile", current),
            UsersError::Erased => {
                ApiError::unauthenticated("This account has been deleted. Sign in with another account.")
            }
            UsersError::Database(e) => ApiError::internal(anyhow::anyhow!("{e}")),
        }
    }
}

impl From<UsersError> for async_graphql::Error {
    fn from(e: UsersError) -> Self {
        ApiError::from(e).into()
    }
}
