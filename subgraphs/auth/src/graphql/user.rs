//! The auth subgraph's part of the `User` entity. Email, roles and account state are the
//! user's own business: only the user and admins read them (the router checks
//! `@authenticated`; ownership is checked here).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use tessera_kit::{
    ApiError,
    identity::{Authenticated, require_self_or_admin},
};
use uuid::Uuid;

use crate::{loader::Loaders, store::Account};

pub struct User {
    id: Uuid,
    account: Option<Account>,
}

impl User {
    pub fn from_account(account: Account) -> Self {
        Self { id: account.id, account: Some(account) }
    }

    /// Through the loader: an `_entities` batch is one statement.
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> Result<Self, ApiError> {
        let account = ctx.data_unchecked::<Loaders>().accounts.load_one(id).await.map_err(db_error)?;
        Ok(Self { id, account })
    }

    /// The account, if the caller is its owner or an admin.
    fn private(&self, ctx: &Context<'_>) -> Result<Option<&Account>, ApiError> {
        require_self_or_admin(ctx, self.id)?;
        Ok(self.account.as_ref())
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
            Some(a) => Ok(ctx.data_unchecked::<Loaders>().roles.load_one(a.id).await.map_err(db_error)?),
            None => Ok(None),
        }
    }

    /// Active, locked by an admin, disabled, or deleted. The user and admins only.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn account_status(&self, ctx: &Context<'_>) -> Result<Option<AccountStatus>, ApiError> {
        Ok(self.private(ctx)?.map(AccountStatus::of))
    }

    /// Whether sign-in asks for an authenticator code. The user and admins only.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn mfa_enabled(&self, ctx: &Context<'_>) -> Result<Option<bool>, ApiError> {
        Ok(self.private(ctx)?.map(|a| a.mfa_enabled))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum AccountStatus {
    Active,
    /// Locked by an admin until unlocked.
    Locked,
    Disabled,
    /// Deleted by its owner: a tombstone without personal data.
    Deleted,
}

impl AccountStatus {
    fn of(a: &Account) -> Self {
        if a.deleted_at.is_some() {
            Self::Deleted
        } else if a.disabled {
            Self::Disabled
        } else if a.admin_locked {
            Self::Locked
        } else {
            Self::Active
        }
    }
}

fn db_error(e: std::sync::Arc<sqlx::Error>) -> ApiError {
    ApiError::internal(anyhow::anyhow!("{e}"))
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
