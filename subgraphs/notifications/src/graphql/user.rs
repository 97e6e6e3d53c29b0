//! The notifications subgraph's part of the `User` entity: `notifications`, for the user alone
//! (not even admins read someone's notifications: they can hold security alerts).

use async_graphql::{Context, ID, Object};
use tessera_kit::{
    ApiError,
    identity::{Authenticated, authenticated, require_self},
    paging::Page,
};
use uuid::Uuid;

use super::{list, types::Notifications};

pub struct User {
    pub id: Uuid,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The user's notifications, newest first. The user only: anyone else gets null and a
    /// `FORBIDDEN` error for this field.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default = false)] unread_only: bool,
    ) -> Result<Option<Notifications>, ApiError> {
        require_self(ctx, self.id)?;
        let page = Page::parse(first, after.as_deref(), "notifications")?;
        Ok(Some(list::notifications(ctx, self.id, page, unread_only).await?))
    }
}
