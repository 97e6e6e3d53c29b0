//! The orders subgraph's resolvers.

mod export;

use async_graphql::{Context, ID, Object, SimpleObject};
use tessera_kit::{
    ApiError, Runtime,
    identity::{Authenticated, authenticated, require_user},
};
use uuid::Uuid;

use crate::{error::OrdersError, store};

pub struct Query;

#[Object]
impl Query {
    /// One of the caller's orders. Someone else's order answers null, exactly like a missing one,
    /// so ids cannot be probed. Admins see every order.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let claims = require_user(ctx)?;
        let id = tessera_kit::error::parse_uuid("id", &id)?;
        visible_order(ctx, claims, id).await
    }

    /// The caller's most recent orders (at most 100), newest first.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn my_orders(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Order>> {
        let claims = require_user(ctx)?;
        let rt = ctx.data_unchecked::<Runtime>();
        let orders = store::orders_of(&rt.db, claims.sub, MY_ORDERS_LIMIT).await.map_err(OrdersError::from)?;
        Ok(orders.into_iter().map(Order::from).collect())
    }

    /// An order other subgraphs point at (a notification's `order`). Its owner and admins only:
    /// anyone else gets null, as from `order`.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let Some(claims) = tessera_kit::identity::viewer(ctx).claims() else { return Ok(None) };
        visible_order(ctx, claims, tessera_kit::error::parse_uuid("id", &id)?).await
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

/// The order `id` if `claims` may see it (its owner, or an admin); None otherwise, exactly like a
/// missing one.
async fn visible_order(
    ctx: &Context<'_>,
    claims: &tessera_kit::jwt::Claims,
    id: Uuid,
) -> async_graphql::Result<Option<Order>> {
    let rt = ctx.data_unchecked::<Runtime>();
    let order = store::order(&rt.db, id).await.map_err(OrdersError::from)?;
    Ok(order.filter(|o| o.user_id == claims.sub || claims.has_scope("admin")).map(Order::from))
}

/// The most orders `myOrders` returns; paging arrives with the orders issue.
const MY_ORDERS_LIMIT: i64 = 100;

/// A reference to the `User` entity, resolved by the subgraphs that own it.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct User {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct Order {
    pub id: ID,
    pub status: String,
    pub total_cents: i64,
    pub currency: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub user: User,
}

impl From<store::Order> for Order {
    fn from(o: store::Order) -> Self {
        Self {
            id: ID(o.id.to_string()),
            status: o.status,
            total_cents: o.total_cents,
            currency: o.currency,
            created_at: o.created_at,
            user: User { id: ID(o.user_id.to_string()) },
        }
    }
}
