//! The notifications subgraph's resolvers.

mod export;

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use futures::{Stream, StreamExt};
use tessera_kit::{
    ApiError, Runtime,
    identity::{Authenticated, authenticated, require_user},
};

use crate::{error::NotificationsError, store, user_topic};

pub struct Query;

#[Object]
impl Query {
    /// How many of the caller's notifications are unread.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let claims = require_user(ctx)?;
        let rt = ctx.data_unchecked::<Runtime>();
        Ok(store::unread_count(&rt.db, claims.sub).await.map_err(NotificationsError::from)?)
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

/// A reference to the `User` entity, resolved by the subgraphs that own it.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct User {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct Notification {
    pub id: ID,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub read: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub user: User,
}

impl From<store::Notification> for Notification {
    fn from(n: store::Notification) -> Self {
        Self {
            id: ID(n.id.to_string()),
            kind: n.kind,
            title: n.title,
            body: n.body,
            read: n.read_at.is_some(),
            created_at: n.created_at,
            user: User { id: ID(n.user_id.to_string()) },
        }
    }
}
