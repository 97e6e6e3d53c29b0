//! Stock reservations, for the orders subgraph: `@inaccessible` in the supergraph (the router
//! never exposes them) and accepted here only from a service token with `service:orders`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, TimeZone, Utc};
use tessera_kit::{
    ApiError,
    bus::outbox,
    error::parse_uuid,
    identity::{RequireService, require_service},
};

use super::{Money, runtime};
use crate::{
    domain::reservation::{BOUNDS, Items},
    error::ProductsError,
    events,
    store::reservations::{self, Line, Outcome, Reservation, Reserved},
};

/// The scope a caller of these mutations needs.
pub const SCOPE: &str = "service:orders";

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(inaccessible)]
pub enum ReservationState {
    /// Units are held until the reservation is committed, released or expires.
    Held,
    /// Sold: the units are gone for good.
    Committed,
    /// Given back, by the caller or by the expiry sweep.
    Released,
    /// Committed, then its units came back to stock (the order was cancelled).
    Returned,
}

#[derive(SimpleObject)]
#[graphql(inaccessible)]
pub struct ReservedItem {
    pub product_id: ID,
    pub quantity: i64,
    /// The price when the units were reserved: what the order charges.
    pub unit_price: Money,
    /// The product's name when the units were reserved: what the order shows.
    pub name: String,
}

#[derive(SimpleObject)]
#[graphql(inaccessible)]
pub struct StockReservation {
    pub id: ID,
    #[graphql(inaccessible)]
    pub state: ReservationState,
    /// When held units go back to stock unless committed.
    pub expires_at: DateTime<Utc>,
    #[graphql(inaccessible)]
    pub items: Vec<ReservedItem>,
}

impl StockReservation {
    fn of(r: Reservation, lines: Vec<Line>) -> Self {
        let state = match r.visible_state() {
            "COMMITTED" => ReservationState::Committed,
            "RELEASED" => ReservationState::Released,
            "RETURNED" => ReservationState::Returned,
            _ => ReservationState::Held,
        };
        Self {
            id: ID(r.id.to_string()),
            state,
            expires_at: Utc.timestamp_millis_opt(r.expires_at).single().unwrap_or_else(Utc::now),
            items: lines
                .into_iter()
                .map(|l| ReservedItem {
                    product_id: ID(l.product_id.to_string()),
                    quantity: l.quantity,
                    unit_price: Money { amount: l.unit_price_cents, currency: l.currency },
                    name: l.name,
                })
                .collect(),
        }
    }
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReservationItemInput {
    pub product_id: ID,
    pub quantity: i64,
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReserveStockInput {
    /// Chosen by the caller (the order's id serves): a retry with the same id and items
    /// answers the same reservation and takes nothing twice.
    pub reservation_id: ID,
    pub items: Vec<ReservationItemInput>,
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReservationInput {
    pub reservation_id: ID,
}

#[derive(SimpleObject)]
#[graphql(inaccessible)]
pub struct ReservationPayload {
    #[graphql(inaccessible)]
    pub reservation: StockReservation,
}

#[derive(Default)]
pub struct ReservationMutation;

#[Object]
impl ReservationMutation {
    /// Holds every item, or none: `OUT_OF_STOCK` names each short item with what is left
    /// (`extensions.items`). Idempotent by `reservationId`; the same id with other items is a
    /// `CONFLICT`.
    #[graphql(inaccessible, guard = "RequireService(SCOPE)")]
    async fn reserve_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(inaccessible)] input: ReserveStockInput,
    ) -> Result<ReservationPayload, ApiError> {
        let client = require_service(ctx, SCOPE)?.client_id.clone().unwrap_or_default();
        let id = parse_uuid("reservationId", &input.reservation_id)?;
        let items = Items::parse(
            input
                .items
                .into_iter()
                .map(|i| (parse_uuid("productId", &i.product_id).map_err(|e| e.message), i.quantity))
                .collect(),
            BOUNDS,
        )
        .map_err(ProductsError::from)?;
        let rt = runtime(ctx);
        let ttl = i64::try_from(rt.config.catalogue.reservation_ttl_seconds).unwrap_or(i64::MAX / 2_000);
        let expires_at = Utc::now().timestamp_millis().saturating_add(ttl.saturating_mul(1000));
        let mut tx = rt.db.begin().await.map_err(ProductsError::from)?;
        match reservations::reserve(&mut tx, id, &items, &client, expires_at).await.map_err(ProductsError::from)? {
            Reserved::Held(reservation, lines, levels) => {
                for (line, (product, stock, reserved)) in lines.iter().zip(&levels) {
                    let event = events::stock_changed(*product, -line.quantity, "reserved", (*stock, *reserved));
                    outbox::enqueue(&mut tx, &event).await.map_err(ProductsError::from)?;
                }
                tx.commit().await.map_err(ProductsError::from)?;
                rt.relay.poke();
                Ok(ReservationPayload { reservation: StockReservation::of(reservation, lines) })
            }
            Reserved::Replayed(reservation, lines) => {
                tx.rollback().await.map_err(ProductsError::from)?;
                Ok(ReservationPayload { reservation: StockReservation::of(reservation, lines) })
            }
            Reserved::Mismatch => Err(ProductsError::ReservationMismatch.into()),
            Reserved::Short(short) => {
                tx.rollback().await.map_err(ProductsError::from)?;
                Err(ProductsError::OutOfStock(short).into())
            }
        }
    }

    /// Makes a held reservation a sale. Idempotent; a released or expired one is a `CONFLICT`.
    #[graphql(inaccessible, guard = "RequireService(SCOPE)")]
    async fn commit_reservation(
        &self,
        ctx: &Context<'_>,
        #[graphql(inaccessible)] input: ReservationInput,
    ) -> Result<ReservationPayload, ApiError> {
        settle(ctx, &input.reservation_id, Outcome::Commit).await
    }

    /// Gives a held reservation's units back. Idempotent; a committed one is a `CONFLICT`.
    #[graphql(inaccessible, guard = "RequireService(SCOPE)")]
    async fn release_reservation(
        &self,
        ctx: &Context<'_>,
        #[graphql(inaccessible)] input: ReservationInput,
    ) -> Result<ReservationPayload, ApiError> {
        settle(ctx, &input.reservation_id, Outcome::Release).await
    }

    /// Puts a committed reservation's units back on sale (its order was cancelled after the
    /// sale). Idempotent; one that was never committed is a `CONFLICT` naming its state.
    #[graphql(inaccessible, guard = "RequireService(SCOPE)")]
    async fn return_reservation(
        &self,
        ctx: &Context<'_>,
        #[graphql(inaccessible)] input: ReservationInput,
    ) -> Result<ReservationPayload, ApiError> {
        settle(ctx, &input.reservation_id, Outcome::Return).await
    }
}

async fn settle(ctx: &Context<'_>, id: &ID, outcome: Outcome) -> Result<ReservationPayload, ApiError> {
    let id = parse_uuid("reservationId", id)?;
    let reason = if outcome == Outcome::Return { "returned" } else { "released" };
    let (reservation, lines) = crate::settle::end(runtime(ctx), id, outcome, reason).await?;
    Ok(ReservationPayload { reservation: StockReservation::of(reservation, lines) })
}
