//! The life of an order after checkout: the owner's `cancelOrder`, an admin's
//! `updateOrderStatus`. Each move is conditional on where the order is, emits
//! `OrderStatusChanged`, and gives reserved or sold units back when it cancels.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use tessera_kit::{
    ApiError, Runtime,
    error::parse_uuid,
    identity::{Authenticated, RequireScopes, authenticated, require_user},
    input::has_control,
};
use uuid::Uuid;

use super::order::Order;
use crate::{
    domain::Status,
    error::OrdersError,
    products::Products,
    saga,
    store::{
        self, Actor,
        orders::{self, Move, Owed},
    },
};

/// The longest cancellation reason kept.
const REASON_MAX: usize = 500;

#[derive(InputObject)]
pub struct CancelOrderInput {
    pub id: ID,
    /// Why (kept in the order's history).
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateOrderStatusInput {
    pub id: ID,
    /// `SHIPPED`, `DELIVERED` or `CANCELLED`, one step from where the order is.
    pub status: Status,
    /// The order's `version` as the admin saw it: a change made since is a `VERSION_CONFLICT`.
    pub expected_version: i64,
}

#[derive(SimpleObject)]
pub struct OrderPayload {
    pub order: Order,
}

#[derive(Default)]
pub struct LifeMutation;

#[Object]
impl LifeMutation {
    /// Cancels one of the caller's orders before it ships; its units go back to stock. Someone
    /// else's order is `NOT_FOUND`, exactly like a missing one. Cancelling twice is harmless.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn cancel_order(&self, ctx: &Context<'_>, input: CancelOrderInput) -> Result<OrderPayload, ApiError> {
        let claims = require_user(ctx)?;
        let id = parse_uuid("id", &input.id)?;
        let reason = input.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > REASON_MAX || has_control(r, false)) {
            return Err(ApiError::bad_input(
                "reason",
                format!("Give a reason of at most {REASON_MAX} printable characters."),
            ));
        }
        let rt = ctx.data_unchecked::<Runtime>();
        let order = owned(rt, id, claims.sub).await?;
        if order.status == Status::Cancelled.as_str() {
            return Ok(OrderPayload { order: order.into() });
        }
        let m = Move {
            to: Status::Cancelled,
            from: &[Status::Pending, Status::Confirmed],
            expected_version: None,
            owed: Owed::GiveBack,
            rejection: None,
            actor: Actor::Customer(claims.sub),
            reason: reason.as_deref(),
        };
        moved(ctx, id, &m).await
    }

    /// Moves an order one step (`CONFIRMED → SHIPPED → DELIVERED`, or `CONFIRMED → CANCELLED`).
    /// Any other move is a `CONFLICT` naming the current status (`extensions.currentStatus`).
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderStatusInput,
    ) -> Result<OrderPayload, ApiError> {
        let admin = require_user(ctx)?.sub;
        let id = parse_uuid("id", &input.id)?;
        let from: Vec<Status> = Status::ALL.into_iter().filter(|s| s.admin_may_move(input.status)).collect();
        let m = Move {
            to: input.status,
            from: &from,
            expected_version: Some(input.expected_version),
            owed: if input.status == Status::Cancelled { Owed::GiveBack } else { Owed::Same },
            rejection: None,
            actor: Actor::Admin(admin),
            reason: None,
        };
        moved(ctx, id, &m).await
    }
}

/// The order `id` if `user` owns it; `NOT_FOUND` otherwise, so ids cannot be probed.
async fn owned(rt: &Runtime, id: Uuid, user: Uuid) -> Result<store::Order, OrdersError> {
    let order = orders::by_id(&rt.db, id).await?;
    order.filter(|o| o.user_id == user).ok_or(OrdersError::NotFound)
}

/// Makes `m`, settles what it owes products, and answers the order; when the move does not
/// apply, says why (the status it is in, or the version it is at).
async fn moved(ctx: &Context<'_>, id: Uuid, m: &Move<'_>) -> Result<OrderPayload, ApiError> {
    let rt = ctx.data_unchecked::<Runtime>();
    let products = ctx.data_unchecked::<Products>();
    match saga::move_order(rt, id, m).await? {
        Some(order) => {
            saga::settle(rt, products, order.id).await;
            let order = orders::by_id(&rt.db, id).await.map_err(OrdersError::from)?.unwrap_or(order);
            Ok(OrderPayload { order: order.into() })
        }
        None => {
            let now = orders::by_id(&rt.db, id).await.map_err(OrdersError::from)?.ok_or(OrdersError::NotFound)?;
            let status = Status::parse(&now.status).unwrap_or(Status::Pending);
            let version_moved = m.expected_version.is_some_and(|v| v != now.version);
            if m.from.contains(&status) && version_moved {
                return Err(OrdersError::VersionConflict { current: now.version }.into());
            }
            Err(OrdersError::IllegalMove { current: now.status, wanted: m.to.as_str().to_owned() }.into())
        }
    }
}
