//! Orders' part of `exportMyData` (the root is in the users subgraph): every order the user placed.

use async_graphql::{Context, ID, Object};
use tessera_kit::{ApiError, Runtime};
use uuid::Uuid;

use super::Order;
use crate::store;

pub struct DataExport {
    pub user_id: Uuid,
}

#[Object]
impl DataExport {
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }

    /// Every order, newest first.
    async fn orders(&self, ctx: &Context<'_>) -> Result<Vec<Order>, ApiError> {
        let rt = ctx.data_unchecked::<Runtime>();
        let orders = store::orders_of(&rt.db, self.user_id, i64::MAX).await?;
        Ok(orders.into_iter().map(Order::from).collect())
    }
}
