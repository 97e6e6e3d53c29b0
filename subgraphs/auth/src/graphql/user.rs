//! The auth subgraph's part of the `User` entity. Email, roles and account state are the
//! user's own business: only the user and admins read them (the router checks
//! `@authenticated`; ownership is checked here).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use tessera_kit::{
    ApiError,
    identity::{Authenticated, require_user},
};
use uuid::Uuid;

use super::state;
use crate::store::{self, Account};

pub struct User {
    id: Uuid,
    account: Option<Account>,
}

impl User {
    pub fn from_account(account: Account) -> Self {
        Self { id: account.id, account: Some(account) }
    }

    pub async fn load(ctx: &Context<'_>, id: Uuid) -> Result<Self, ApiError> {
        let account = store::accounts::by_id(&state(ctx).rt.db, id).await?;
        Ok(Self { id, account })
    }

    /// The account, if the caller is its owner or an admin.
    fn private(&self, ctx: &Context<'_>) -> Result<Option<&Account>, ApiError> {
        let claims = require_user(ctx)?;
        if claims.sub == self.id || claims.has_scope("admin") {
            Ok(self.account.as_ref())
        } else {
            Err(ApiError::forbidden("Only this user and admins can read this field."))
        }
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

    /// When the account was created.
    async fn created_at(&self) -> Option<DateTime<Utc>> {
        self.account.as_ref().map(|a| a.created_at)
    }

    /// The sign-in email. The user and admins only.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        Ok(self.private(ctx)?.map(|a| a.email.as_str()))
    }

    /// Whether the email address has been verified. The user and admins only.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn email_verified(&self, ctx: &Context<'_>) -> Result<Option<bool>, ApiError> {
        Ok(self.private(ctx)?.map(|a| a.email_verified))
    }

    /// The account's roles (`customer`, `admin`, …). The user and admins only.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn roles(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>, ApiError> {
        match self.private(ctx)? {
            Some(a) => Ok(Some(store::accounts::roles(&state(ctx).rt.db, a.id).await?)),
            None => Ok(None),
        }
    }

    /// Whether sign-in asks for an authenticator code. The user and admins only.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn mfa_enabled(&self, ctx: &Context<'_>) -> Result<Option<bool>, ApiError> {
        Ok(self.private(ctx)?.map(|a| a.mfa_enabled))
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<User, ApiError> {
        User::load(ctx, super::uuid("id", &id)?).await
    }
}
