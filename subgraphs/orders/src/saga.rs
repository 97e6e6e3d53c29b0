//! Checkout as a saga (DESIGN.md): the order is written `PENDING` first, stock is reserved in
//! products under the order's id, and the order becomes `CONFIRMED` in one transaction with its
//! `OrderPlaced` event; then the reservation is committed. Every step is idempotent and every
//! move conditional, so a retry, a duplicate request, a crash and a sweep on two replicas all
//! end in the same place: one order, one reservation, settled once.

use std::collections::BTreeSet;

use chrono::Utc;
use serde_json::json;
use tessera_kit::{Runtime, bus::outbox, service_client::CallError};
use uuid::Uuid;

use crate::{
    domain::{Items, Status, key::IdempotencyKey},
    error::OrdersError,
    events,
    products::{Products, ReservedLine, Settlement},
    store::{
        Actor, Order,
        keys::{self, Claim},
        orders::{self, Move, Owed, Priced},
    },
};

/// How long an idempotency key answers with its order.
pub const KEY_HOURS: i64 = 24;

/// Places `items` for `user` under `key`: the same key and items answer the same order however
/// often, and concurrently, they are sent.
pub async fn place(
    rt: &Runtime,
    products: &Products,
    user: Uuid,
    key: &IdempotencyKey,
    items: &Items,
) -> Result<Order, OrdersError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let fingerprint = items.fingerprint();
    let mut tx = rt.db.begin().await?;
    let claim =
        keys::claim(&mut tx, user, key.as_str(), &fingerprint, id, now, now - chrono::Duration::hours(KEY_HOURS))
            .await?;
    let order = match claim {
        Claim::Fresh => {
            let budget = i64::from(rt.config.checkout.orders_per_user_per_hour);
            if orders::placed_since(&mut tx, user, now - chrono::Duration::hours(1)).await? >= budget {
                tx.rollback().await?;
                return Err(OrdersError::TooManyOrders);
            }
            let order = orders::insert_pending(&mut tx, id, user, items).await?;
            tx.commit().await?;
            order
        }
        Claim::Taken { fingerprint: taken, .. } if taken != fingerprint => {
            tx.rollback().await?;
            return Err(OrdersError::KeyReused);
        }
        Claim::Taken { order_id, .. } => {
            tx.rollback().await?;
            orders::by_id(&rt.db, order_id).await?.ok_or(OrdersError::NotFound)?
        }
    };
    // A replay of a pending order drives the saga too: the reservation is idempotent and the
    // confirmation conditional, so whichever caller gets there first confirms it, once.
    let order =
        if order.status == Status::Pending.as_str() { advance(rt, products, order, items).await? } else { order };
    answer(order)
}

/// What `placeOrder` answers for an order as it now is: the order, or the refusal it was
/// rejected with.
fn answer(order: Order) -> Result<Order, OrdersError> {
    if order.status != Status::Rejected.as_str() {
        return Ok(order);
    }
    let rejection: serde_json::Value =
        order.rejection.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    Err(match rejection["code"].as_str() {
        Some("OUT_OF_STOCK") => OrdersError::OutOfStock { order: order.id, items: rejection["items"].clone() },
        Some("MIXED_CURRENCIES") => OrdersError::MixedCurrencies {
            order: order.id,
            currencies: serde_json::from_value(rejection["currencies"].clone()).unwrap_or_default(),
        },
        _ => OrdersError::Unavailable { retry_after: std::time::Duration::from_secs(1), order: Some(order.id) },
    })
}

/// Reserves a pending order's stock and confirms it, or rejects it. Products unreachable
/// leaves it pending (for a retry with the same key, or the sweep) and says so.
async fn advance(rt: &Runtime, products: &Products, order: Order, items: &Items) -> Result<Order, OrdersError> {
    let lines = match products.reserve(order.id, items).await {
        Ok(lines) => lines,
        Err(CallError::Unavailable { retry_after, reason }) => {
            tracing::warn!(order = %order.id, reason, "stock not reserved: products unavailable");
            return Err(OrdersError::Unavailable { retry_after, order: Some(order.id) });
        }
        Err(refused) if refused.code() == Some("OUT_OF_STOCK") => {
            let items = refused.extensions().map(|e| e["items"].clone()).unwrap_or_default();
            let rejection = json!({ "code": "OUT_OF_STOCK", "items": items });
            // All or nothing: nothing was held, so nothing is owed.
            return reject(rt, products, &order, &rejection, Owed::Same, "not enough stock").await;
        }
        Err(refused) => {
            return Err(OrdersError::Unexpected(anyhow::anyhow!("products refused a reservation: {refused:?}")));
        }
    };
    let currencies: BTreeSet<&str> = lines.iter().map(|l| l.unit_price.currency.as_str()).collect();
    if currencies.len() > 1 {
        let currencies: Vec<&str> = currencies.into_iter().collect();
        let rejection = json!({ "code": "MIXED_CURRENCIES", "currencies": currencies });
        return reject(rt, products, &order, &rejection, Owed::GiveBack, "items priced in several currencies").await;
    }
    confirm(rt, products, &order, &lines).await
}

async fn confirm(
    rt: &Runtime,
    products: &Products,
    order: &Order,
    lines: &[ReservedLine],
) -> Result<Order, OrdersError> {
    let currency = lines.first().map(|l| l.unit_price.currency.clone()).unwrap_or_default();
    let subtotal = lines.iter().try_fold(0i64, |sum, l| sum.checked_add(l.unit_price.amount.checked_mul(l.quantity)?));
    let subtotal = subtotal.ok_or_else(|| OrdersError::Unexpected(anyhow::anyhow!("order total overflows")))?;
    let priced: Vec<Priced> = lines
        .iter()
        .map(|l| Priced { product_id: l.product_id, name: l.name.clone(), unit_price_cents: l.unit_price.amount })
        .collect();
    let mut tx = rt.db.begin().await?;
    let Some(confirmed) = orders::confirm(&mut tx, order.id, &priced, &currency, subtotal).await? else {
        // Someone else moved it first (a duplicate request confirmed it, the sweep rejected it).
        tx.rollback().await?;
        return orders::by_id(&rt.db, order.id).await?.ok_or(OrdersError::NotFound);
    };
    outbox::enqueue(&mut tx, &events::placed(&confirmed, lines)).await?;
    tx.commit().await?;
    rt.relay.poke();
    // The commit is owed from here on (the `settlement` column says so), so the customer need
    // not wait for it: it runs beside the answer, and the sweep makes it if this task dies.
    // That keeps checkout to one call to products, and within the router's timeout however
    // long products takes to come back.
    let (rt, products, id) = (rt.clone(), products.clone(), confirmed.id);
    tokio::spawn(async move { settle(&rt, &products, id).await });
    Ok(confirmed)
}

/// `PENDING → REJECTED`, keeping `rejection` for replays; `owed` says whether a held
/// reservation must be given back.
async fn reject(
    rt: &Runtime,
    products: &Products,
    order: &Order,
    rejection: &serde_json::Value,
    owed: Owed,
    reason: &str,
) -> Result<Order, OrdersError> {
    let rejection = rejection.to_string();
    let m = Move {
        to: Status::Rejected,
        from: &[Status::Pending],
        expected_version: None,
        owed,
        rejection: Some(&rejection),
        actor: Actor::System,
        reason: Some(reason),
    };
    let moved = move_order(rt, order.id, &m).await?;
    let order = match moved {
        Some(order) => order,
        None => orders::by_id(&rt.db, order.id).await?.ok_or(OrdersError::NotFound)?,
    };
    settle(rt, products, order.id).await;
    Ok(orders::by_id(&rt.db, order.id).await?.unwrap_or(order))
}

/// Makes `m` with its `OrderStatusChanged` in one transaction; `None` if the order was not
/// where `m` starts from.
pub async fn move_order(rt: &Runtime, id: Uuid, m: &Move<'_>) -> Result<Option<Order>, OrdersError> {
    let mut tx = rt.db.begin().await?;
    let previous = orders::status_tx(&mut tx, id).await?;
    let Some(moved) = orders::make(&mut tx, id, m).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    outbox::enqueue(&mut tx, &events::status_changed(&moved, previous.as_deref().unwrap_or_default())).await?;
    tx.commit().await?;
    rt.relay.poke();
    Ok(Some(moved))
}

/// Makes the call order `id` owes products now, if any, and records that it was made. A
/// failure is logged and left for the sweep, which calls again: every such call is idempotent.
/// The order is read afresh, so a move made since the caller looked (a cancel turning a commit
/// into a release) is what counts.
pub async fn settle(rt: &Runtime, products: &Products, id: Uuid) {
    let order = match orders::by_id(&rt.db, id).await {
        Ok(Some(order)) => order,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(order = %id, error = %e, "order not read; the sweep settles it");
            return;
        }
    };
    let Some(what) = order.settlement.as_deref().and_then(Settlement::parse) else { return };
    if let Err(e) = try_settle(rt, products, &order, what).await {
        tracing::warn!(order = %order.id, settlement = what.as_str(), error = format!("{e:?}"), "reservation not settled yet; the sweep retries");
    }
}

async fn try_settle(rt: &Runtime, products: &Products, order: &Order, what: Settlement) -> Result<(), OrdersError> {
    let state = match products.settle(order.id, what).await {
        Ok(state) => state,
        Err(CallError::Unavailable { retry_after, .. }) => {
            return Err(OrdersError::Unavailable { retry_after, order: Some(order.id) });
        }
        // Nothing was ever held under this id (the reservation never arrived): nothing to give back.
        Err(e) if e.code() == Some("NOT_FOUND") && what != Settlement::Commit => "NONE".to_owned(),
        Err(e) if e.code() == Some("CONFLICT") => {
            e.extensions().and_then(|x| x["state"].as_str()).unwrap_or_default().to_owned()
        }
        Err(e) => return Err(OrdersError::Unexpected(anyhow::anyhow!("products refused to settle: {e:?}"))),
    };
    match (what, state.as_str()) {
        (Settlement::Commit, "COMMITTED" | "RETURNED")
        | (Settlement::Release, "RELEASED" | "NONE")
        | (Settlement::Return, "RETURNED" | "RELEASED" | "NONE") => {
            orders::settled(&rt.db, order.id, what.as_str(), what == Settlement::Commit).await?;
        }
        // Committed after all (a cancel raced the commit): the units come back by a return.
        (Settlement::Release, "COMMITTED") => {
            orders::owe_return(&rt.db, order.id).await?;
            Box::pin(settle(rt, products, order.id)).await;
        }
        // The reservation ran out before it could be committed (products was down longer than
        // its TTL): the confirmed order has no stock behind it, so it is cancelled, not shipped.
        (Settlement::Commit, "EXPIRED" | "RELEASED") => {
            orders::settled(&rt.db, order.id, what.as_str(), false).await?;
            let m = Move {
                to: Status::Cancelled,
                from: &[Status::Confirmed],
                expected_version: None,
                owed: Owed::Same,
                rejection: None,
                actor: Actor::System,
                reason: Some("its stock reservation expired before it was committed"),
            };
            move_order(rt, order.id, &m).await?;
        }
        (what, state) => {
            return Err(OrdersError::Unexpected(anyhow::anyhow!(
                "products answered {state} to a {} of order {}",
                what.as_str(),
                order.id
            )));
        }
    }
    Ok(())
}
