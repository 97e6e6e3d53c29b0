//! The users subgraph's resolvers.

use async_graphql::{Context, ID, Object};
use tessera_kit::{
    ApiError, Runtime,
    identity::{Authenticated, authenticated, require_user},
};
use uuid::Uuid;

use crate::{error::UsersError, store};

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let claims = require_user(ctx)?;
        User::load(ctx, claims.sub).await
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        let id = Uuid::parse_str(&id).map_err(|_| ApiError::bad_input("id", "A user id is a UUID."))?;
        User::load(ctx, id).await
    }
}

pub struct User {
    id: Uuid,
    /// None until `AccountRegistered` has been applied: the user then sees default values.
    profile: Option<store::Profile>,
}

impl User {
    async fn load(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Self> {
        let rt = ctx.data_unchecked::<Runtime>();
        let profile = store::profile(&rt.db, id).await.map_err(UsersError::from)?;
        Ok(Self { id, profile })
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The name shown to others. Null until the user sets one (or their profile is created).
    async fn display_name(&self) -> Option<&str> {
        self.profile.as_ref().and_then(|p| p.display_name.as_deref())
    }

    /// The profile's version, for optimistic locking of updates.
    async fn profile_version(&self) -> i64 {
        self.profile.as_ref().map_or(0, |p| p.version)
    }
}
