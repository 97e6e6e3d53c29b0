//! Notifications' part of `exportMyData` (the root is in the users subgraph). Bodies are stored
//! with codes and links redacted, so the export holds no secret either.

use async_graphql::{Context, ID, Object};
use tessera_kit::{ApiError, Runtime};
use uuid::Uuid;

use super::Notification;
use crate::store;

pub struct DataExport {
    pub user_id: Uuid,
}

#[Object]
impl DataExport {
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }

    /// Every in-app notification, newest first.
    async fn notifications(&self, ctx: &Context<'_>) -> Result<Vec<Notification>, ApiError> {
        let rt = ctx.data_unchecked::<Runtime>();
        Ok(store::notifications::all_of(&rt.db, self.user_id).await?.into_iter().map(Notification::from).collect())
    }
}
