//! Marking notifications read. Someone else's notification answers `NOT_FOUND`, exactly like a
//! missing one, so ids cannot be probed.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use tessera_kit::{
    ApiError, Runtime,
    error::parse_uuid,
    identity::{Authenticated, authenticated, require_user},
};

use super::types::Notification;
use crate::store::notifications;

#[derive(InputObject)]
pub struct MarkNotificationReadInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct MarkNotificationReadPayload {
    pub notification: Notification,
    /// The caller's unread count after the change.
    pub unread_count: i64,
}

#[derive(SimpleObject)]
pub struct MarkAllNotificationsReadPayload {
    /// How many notifications this marked read.
    pub marked_count: i64,
    pub unread_count: i64,
}

#[derive(Default)]
pub struct ReadMutation;

#[Object]
impl ReadMutation {
    /// Marks one of the caller's notifications read. Marking it again changes nothing.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn mark_notification_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationReadInput,
    ) -> Result<MarkNotificationReadPayload, ApiError> {
        let user = require_user(ctx)?.sub;
        let id = parse_uuid("id", &input.id)?;
        let db = &ctx.data_unchecked::<Runtime>().db;
        let n =
            notifications::mark_read(db, user, id, Utc::now()).await?.ok_or_else(crate::error::no_such_notification)?;
        let unread_count = notifications::unread_count(db, user).await?;
        Ok(MarkNotificationReadPayload { notification: n.into(), unread_count })
    }

    /// Marks every notification of the caller read.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn mark_all_notifications_read(
        &self,
        ctx: &Context<'_>,
    ) -> Result<MarkAllNotificationsReadPayload, ApiError> {
        let user = require_user(ctx)?.sub;
        let db = &ctx.data_unchecked::<Runtime>().db;
        let marked = notifications::mark_all_read(db, user, Utc::now()).await?;
        let unread_count = notifications::unread_count(db, user).await?;
        Ok(MarkAllNotificationsReadPayload { marked_count: marked as i64, unread_count })
    }
}
