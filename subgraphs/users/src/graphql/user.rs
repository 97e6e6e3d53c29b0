//! The users subgraph's part of the `User` entity. `displayName` and `avatarUrl` are public;
//! the profile and preferences are the user's and admins' only (the router checks
//! `@authenticated`, the owner check is here, per field, so one refused field does not fail the
//! whole query).

use async_graphql::{Context, ID, Object};
use tessera_kit::{
    ApiError,
    identity::{Authenticated, authenticated, require_self_or_admin, require_user},
};
use uuid::Uuid;

use super::{preferences::PreferencesView, profile::ProfileView, uuid};
use crate::{error::UsersError, loader::ProfileLoader, store::Profile};

pub struct User {
    pub id: Uuid,
    /// None until `AccountRegistered` has been applied (or the user saved a profile): the user
    /// then sees default values, not an error.
    pub profile: Option<Profile>,
}

impl User {
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> Result<Self, UsersError> {
        let profile = ctx.data_unchecked::<ProfileLoader>().load_one(id).await?;
        Ok(Self { id, profile })
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The name shown to others. Null until the user or their registration sets one.
    async fn display_name(&self) -> Option<&str> {
        self.profile.as_ref().and_then(|p| p.display_name.as_deref())
    }

    /// The picture shown to others: an https URL, or null.
    async fn avatar_url(&self) -> Option<&str> {
        self.profile.as_ref().and_then(|p| p.avatar_url.as_deref())
    }

    /// The whole profile. The user and admins only: anyone else gets null and a `FORBIDDEN`
    /// error for this field alone.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<ProfileView>, ApiError> {
        require_self_or_admin(ctx, self.id)?;
        Ok(Some(ProfileView::of(self.profile.clone())))
    }

    /// Notification channels, theme and language. The user and admins only.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn preferences(&self, ctx: &Context<'_>) -> Result<Option<PreferencesView>, ApiError> {
        require_self_or_admin(ctx, self.id)?;
        Ok(Some(PreferencesView::load(ctx, self.id).await?))
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user, with default profile values until their profile exists.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn me(&self, ctx: &Context<'_>) -> Result<User, ApiError> {
        let claims = require_user(ctx)?;
        Ok(User::load(ctx, claims.sub).await?)
    }

    /// A user by id: the public part for anyone; `profile` and `preferences` for the user and
    /// admins. Null when no such user is known.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>, ApiError> {
        let user = User::load(ctx, uuid("id", &id)?).await?;
        Ok(user.profile.is_some().then_some(user))
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<User, ApiError> {
        Ok(User::load(ctx, uuid("id", &id)?).await?)
    }
}
