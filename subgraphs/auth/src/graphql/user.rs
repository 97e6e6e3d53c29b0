//! The auth subgraph's part of the `User` entity.

use async_graphql::{ID, Object};
use tessera_kit::ApiError;
use uuid::Uuid;

use crate::{State, error::AuthError, store};

pub struct User {
    id: Uuid,
    account: Option<store::Account>,
}

impl User {
    pub async fn load(state: &State, id: &ID) -> async_graphql::Result<Self> {
        let id = Uuid::parse_str(id).map_err(|_| ApiError::bad_input("id", "A user id is a UUID."))?;
        let account = store::account(&state.rt.db, id).await.map_err(AuthError::from)?;
        Ok(Self { id, account })
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The public handle. Null for an id that has no account.
    async fn username(&self) -> Option<&str> {
        self.account.as_ref().map(|a| a.username.as_str())
    }
}
