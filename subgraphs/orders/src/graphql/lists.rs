//! Order lists as Relay connections: the caller's (`myOrders`), everyone's (admin `orders`),
//! and a user's (`User.orders`), newest first, with `totalCount` counted only when asked for.

use async_graphql::{
    Object,
    connection::{Connection, Edge},
};
use tessera_kit::{ApiError, Runtime, paging::Page};

use super::order::Order;
use crate::{
    error::OrdersError,
    store::lists::{self, Filter},
};

/// What every page of a list has in common.
pub struct OrderTotal {
    rt: Runtime,
    filter: Filter,
}

#[Object]
impl OrderTotal {
    /// How many orders the list holds, on every page.
    async fn total_count(&self) -> Result<i64, ApiError> {
        Ok(lists::count(&self.rt.db, &self.filter).await.map_err(OrdersError::from)?)
    }
}

pub type Orders = Connection<String, Order, OrderTotal>;

/// One page of the orders `filter` selects.
pub async fn page(rt: &Runtime, filter: Filter, first: Option<i32>, after: Option<String>) -> Result<Orders, ApiError> {
    let page = Page::parse(first, after.as_deref(), "orders")?;
    let mut rows = lists::page(&rt.db, &filter, page.after, page.fetch()).await.map_err(OrdersError::from)?;
    let has_next = rows.len() > page.first;
    rows.truncate(page.first);
    let mut connection =
        Connection::with_additional_fields(page.after.is_some(), has_next, OrderTotal { rt: rt.clone(), filter });
    connection.edges.extend(rows.into_iter().map(|o| Edge::new(o.id.to_string(), Order::from(o))));
    Ok(connection)
}
