//! `placeOrder`: the checkout saga (`crate::saga`) behind one mutation.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use tessera_kit::{
    ApiError, Runtime,
    error::parse_uuid,
    identity::{Authenticated, authenticated, require_user},
};

use super::order::Order;
use crate::{
    domain::{BOUNDS, Items, Problems, key::IdempotencyKey},
    error::OrdersError,
    products::Products,
    saga,
};

#[derive(InputObject)]
pub struct OrderItemInput {
    pub product_id: ID,
    pub quantity: i64,
}

#[derive(InputObject)]
pub struct PlaceOrderInput {
    /// Each product once, with how many. Prices come from the catalogue, never from here.
    pub items: Vec<OrderItemInput>,
    /// Made by the client once per checkout (a UUID) and sent again on every retry of it: the
    /// same key and items answer the same order for 24 hours, however often they are sent.
    pub idempotency_key: String,
}

#[derive(SimpleObject)]
pub struct PlaceOrderPayload {
    pub order: Order,
}

#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Places an order: stock is reserved at the catalogue's prices and the order confirmed,
    /// or it is refused with `OUT_OF_STOCK` (`extensions.items`: each short product and how
    /// many are left), or `SERVICE_UNAVAILABLE` (`extensions.retryAfterSeconds`; retry with
    /// the same key). A refused order is kept as `REJECTED`.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn place_order(&self, ctx: &Context<'_>, input: PlaceOrderInput) -> Result<PlaceOrderPayload, ApiError> {
        let user = require_user(ctx)?.sub;
        let mut p = Problems::default();
        let key = p.check("idempotencyKey", IdempotencyKey::parse(&input.idempotency_key));
        let lines = input
            .items
            .into_iter()
            .map(|i| (parse_uuid("productId", &i.product_id).map_err(|e| e.message), i.quantity))
            .collect();
        let items = match Items::parse(lines, BOUNDS) {
            Ok(items) => Some(items),
            Err(more) => {
                p.0.extend(more.0);
                None
            }
        };
        let (Some(key), Some(items)) = (key, items) else { return Err(OrdersError::Invalid(p).into()) };
        let rt = ctx.data_unchecked::<Runtime>();
        let products = ctx.data_unchecked::<Products>();
        let order = saga::place(rt, products, user, &key, &items).await?;
        Ok(PlaceOrderPayload { order: order.into() })
    }
}
