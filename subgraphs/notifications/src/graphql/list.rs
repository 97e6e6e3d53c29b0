//! One page of a user's notifications, shared by `myNotifications` and `User.notifications`.

use async_graphql::{
    Context,
    connection::{Connection, Edge},
};
use tessera_kit::{ApiError, Runtime, paging::Page};
use uuid::Uuid;

use super::types::{Notification, Notifications, Total};
use crate::store::notifications;

pub async fn notifications(
    ctx: &Context<'_>,
    user: Uuid,
    page: Page,
    unread_only: bool,
) -> Result<Notifications, ApiError> {
    let db = &ctx.data_unchecked::<Runtime>().db;
    let mut rows = notifications::page(db, user, page.after, unread_only, page.fetch()).await?;
    let has_next = rows.len() > page.first;
    rows.truncate(page.first);
    let total_count = notifications::count(db, user, unread_only).await?;
    let mut connection = Connection::with_additional_fields(page.after.is_some(), has_next, Total { total_count });
    connection.edges.extend(rows.into_iter().map(|n| Edge::new(n.id.to_string(), Notification::from(n))));
    Ok(connection)
}
