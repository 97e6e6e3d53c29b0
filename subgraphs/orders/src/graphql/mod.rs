//! The orders subgraph's resolvers: reads and entities here, checkout and the life of an
//! order in their own files; the roots merge them.

mod checkout;
mod entities;
mod export;
mod life;
mod lists;
mod order;

use async_graphql::{Context, ID, MergedObject, Object};
use tessera_kit::{
    ApiError, Runtime,
    identity::{Authenticated, RequireScopes, authenticated, require_user},
};
use uuid::Uuid;

pub use order::{Money, Order, Product, User};

use crate::{
    domain::Status,
    error::OrdersError,
    store::{lists::Filter, orders},
};

#[derive(MergedObject, Default)]
pub struct Query(OrderQuery, entities::EntityQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(checkout::CheckoutMutation, life::LifeMutation);

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// One of the caller's orders. Someone else's order answers null, exactly like a missing one,
    /// so ids cannot be probed. Admins see every order.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let claims = require_user(ctx)?;
        let id = tessera_kit::error::parse_uuid("id", &id)?;
        visible_order(ctx, claims, id).await
    }

    /// The caller's orders, newest first, a page at a time (`first` up to 100, 20 by default).
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn my_orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Status>,
    ) -> Result<lists::Orders, ApiError> {
        let user = require_user(ctx)?.sub;
        lists::page(ctx.data_unchecked::<Runtime>(), Filter { user: Some(user), status }, first, after).await
    }

    /// Every order (admins), newest first, optionally one user's or in one status.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<Status>,
        user_id: Option<ID>,
    ) -> Result<lists::Orders, ApiError> {
        let user = user_id.map(|u| tessera_kit::error::parse_uuid("userId", &u)).transpose()?;
        lists::page(ctx.data_unchecked::<Runtime>(), Filter { user, status }, first, after).await
    }
}

/// The order `id` if `claims` may see it (its owner, or an admin); None otherwise, exactly like a
/// missing one.
pub(crate) async fn visible_order(
    ctx: &Context<'_>,
    claims: &tessera_kit::jwt::Claims,
    id: Uuid,
) -> async_graphql::Result<Option<Order>> {
    let rt = ctx.data_unchecked::<Runtime>();
    let order = orders::by_id(&rt.db, id).await.map_err(OrdersError::from)?;
    Ok(order.filter(|o| o.user_id == claims.sub || claims.has_scope("admin")).map(Order::from))
}
