//! The notifications subgraph's resolvers.

mod admin;
mod export;
mod list;
mod read;
mod types;
mod user;

use async_graphql::{Context, ID, MergedObject, Object, Subscription};
use futures::{Stream, StreamExt};
use tessera_kit::{
    ApiError, Runtime,
    error::parse_uuid,
    identity::{Authenticated, authenticated, require_user},
    paging::Page,
};

pub use types::{Notification, Notifications};

use crate::{store, user_topic};

#[derive(MergedObject, Default)]
pub struct Query(BaseQuery, admin::AdminQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(read::ReadMutation, admin::AdminMutation);

#[derive(Default)]
pub struct BaseQuery;

#[Object]
impl BaseQuery {
    /// How many of the caller's notifications are unread.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64, ApiError> {
        let claims = require_user(ctx)?;
        let rt = ctx.data_unchecked::<Runtime>();
        Ok(store::notifications::unread_count(&rt.db, claims.sub).await?)
    }

    /// The caller's notifications, newest first; `unreadOnly` keeps the unread ones.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default = false)] unread_only: bool,
    ) -> Result<Notifications, ApiError> {
        let claims = require_user(ctx)?;
        let page = Page::parse(first, after.as_deref(), "notifications")?;
        list::notifications(ctx, claims.sub, page, unread_only).await
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Result<user::User, ApiError> {
        Ok(user::User { id: parse_uuid("id", &id)? })
    }

    /// Only the user themself (see the users subgraph's `exportMyData`).
    #[graphql(entity)]
    async fn find_data_export_by_user_id(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> Result<export::DataExport, ApiError> {
        Ok(export::DataExport { user_id: tessera_kit::identity::require_self_id(ctx, "userId", &user_id)? })
    }
}

pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The caller's notifications, as they are created. Scoped to the token's user: nobody can
    /// listen to someone else's.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn notification_added(&self, ctx: &Context<'_>) -> async_graphql::Result<impl Stream<Item = Notification>> {
        let claims = require_user(ctx)?;
        let rt = ctx.data_unchecked::<Runtime>();
        let user = claims.sub;
        Ok(rt.bus.subscribe_topic(&user_topic(user)).filter_map(move |json| async move {
            let n: store::Notification = serde_json::from_str(&json).ok()?;
            (n.user_id == user).then(|| Notification::from(n))
        }))
    }
}
