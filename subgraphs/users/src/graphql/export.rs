//! `exportMyData`: everything Tessera holds about the caller, in one answer. The root lives here
//! and returns the `DataExport` entity; every other subgraph adds its own fields to that entity
//! (auth: the account, sessions and audit trail; notifications; orders), and the router joins
//! them. Each part checks that the caller is the user being exported.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use tessera_kit::{
    ApiError,
    identity::{Authenticated, authenticated, require_self_id, require_user},
};
use uuid::Uuid;

use super::{User, preferences::PreferencesView, profile::ProfileView};

pub struct DataExport {
    user_id: Uuid,
}

#[Object]
impl DataExport {
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }

    /// When this export was made.
    async fn generated_at(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// The profile, as stored.
    async fn profile(&self, ctx: &Context<'_>) -> Result<ProfileView, ApiError> {
        Ok(ProfileView::of(User::load(ctx, self.user_id).await?.profile))
    }

    /// The settings, as stored (defaults if never changed).
    async fn preferences(&self, ctx: &Context<'_>) -> Result<PreferencesView, ApiError> {
        Ok(PreferencesView::load(ctx, self.user_id).await?)
    }
}

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Everything Tessera holds about you, across every subgraph: account, sessions, security
    /// events, profile, preferences, notifications, orders. Select the fields you want, or all.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn export_my_data(&self, ctx: &Context<'_>) -> Result<DataExport, ApiError> {
        Ok(DataExport { user_id: require_user(ctx)?.sub })
    }

    #[graphql(entity)]
    async fn find_data_export_by_user_id(&self, ctx: &Context<'_>, user_id: ID) -> Result<DataExport, ApiError> {
        Ok(DataExport { user_id: require_self_id(ctx, "userId", &user_id)? })
    }
}
