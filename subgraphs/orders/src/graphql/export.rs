//! Orders' part of `exportMyData` (the root is in the users subgraph): every order the user
//! placed, with its lines, history and totals (the `Order` fields).

use async_graphql::{Context, ID, Object};
use tessera_kit::{ApiError, Runtime};
use uuid::Uuid;

use super::Order;
use crate::{error::OrdersError, store::lists};

/// Most orders one export holds: beyond that an export is a job, not a request.
const EXPORT_MAX: i64 = 10_000;

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
        let filter = lists::Filter { user: Some(self.user_id), status: None };
        let orders = lists::page(&rt.db, &filter, None, EXPORT_MAX).await.map_err(OrdersError::from)?;
        Ok(orders.into_iter().map(Order::from).collect())
    }
}
