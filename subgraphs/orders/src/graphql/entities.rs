//! The entities orders resolves or adds to: `Order` (a notification's `order`), `User.orders`
//! (the owner or an admin), `Product.salesCount` (admins), and `DataExport.orders`.

use async_graphql::{ComplexObject, Context, ID, Object};
use tessera_kit::{
    ApiError, Runtime,
    identity::{RequireScopes, require_self_or_admin, viewer},
};

use super::{
    Order, Product, User, export,
    lists::{self, Orders},
    visible_order,
};
use crate::{domain::Status, error::OrdersError, store::lists::Filter, store::orders};

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// An order other subgraphs point at (a notification's `order`). Its owner and admins only:
    /// anyone else gets null, as from `order`.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let Some(claims) = viewer(ctx).claims() else { return Ok(None) };
        visible_order(ctx, claims, tessera_kit::error::parse_uuid("id", &id)?).await
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
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

#[ComplexObject]
impl User {
    /// This user's orders, newest first: for the user themself and admins (`FORBIDDEN` to
    /// anyone else).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Status>,
    ) -> Result<Option<Orders>, ApiError> {
        let user = tessera_kit::error::parse_uuid("id", &self.id)?;
        require_self_or_admin(ctx, user)?;
        lists::page(ctx.data_unchecked::<Runtime>(), Filter { user: Some(user), status }, first, after).await.map(Some)
    }
}

#[ComplexObject]
impl Product {
    /// Units sold: on orders confirmed, shipped or delivered (admins).
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn sales_count(&self, ctx: &Context<'_>) -> Result<i64, ApiError> {
        let product = tessera_kit::error::parse_uuid("id", &self.id)?;
        Ok(orders::units_sold(&ctx.data_unchecked::<Runtime>().db, product).await.map_err(OrdersError::from)?)
    }
}
