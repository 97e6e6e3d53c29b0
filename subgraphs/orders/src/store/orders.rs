//! Writing orders: the pending row, its confirmation, every later move (each one conditional
//! on where the order is, so two writers never both move it), and what is still owed to
//! products for its reservation.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx, in_list},
    on_db, on_tx,
};
use uuid::Uuid;

use super::{ANONYMOUS, Actor, COLUMNS, Change, Item, Order};
use crate::domain::{Items, Status, number};

/// Writes a `PENDING` order for `items` (a first history entry with it), under a fresh number.
pub async fn insert_pending(tx: &mut Tx, id: Uuid, user: Uuid, items: &Items) -> Result<Order, sqlx::Error> {
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO orders (id, number, user_id, status, created_at, updated_at) VALUES ($1, $2, $3, 'PENDING', $4, $4) \
         ON CONFLICT (number) DO NOTHING RETURNING {COLUMNS}"
    );
    let order = loop {
        let number = number::generate();
        let inserted: Option<Order> =
            on_tx!(tx, |c| sqlx::query_as(&sql).bind(id).bind(&number).bind(user).bind(now).fetch_optional(c).await)?;
        if let Some(order) = inserted {
            break order;
        }
    };
    for &(product, quantity) in items.lines() {
        on_tx!(tx, |c| sqlx::query("INSERT INTO order_items (order_id, product_id, quantity) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(product)
            .bind(quantity)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    record(tx, &order, Actor::Customer(user), None).await?;
    Ok(order)
}

/// A reserved line as products priced and named it.
#[derive(Debug, Clone)]
pub struct Priced {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price_cents: i64,
}

/// `PENDING → CONFIRMED` with products' snapshot of names and prices, and the commit now owed.
/// `None` when the order is no longer pending (another caller or the sweep moved it first).
pub async fn confirm(
    tx: &mut Tx,
    id: Uuid,
    lines: &[Priced],
    currency: &str,
    subtotal: i64,
) -> Result<Option<Order>, sqlx::Error> {
    let sql = format!(
        "UPDATE orders SET status = 'CONFIRMED', currency = $2, subtotal_cents = $3, total_cents = $3, \
         settlement = 'COMMIT', version = version + 1, updated_at = $4 WHERE id = $1 AND status = 'PENDING' \
         RETURNING {COLUMNS}"
    );
    let confirmed: Option<Order> = on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .bind(currency)
        .bind(subtotal)
        .bind(Utc::now())
        .fetch_optional(c)
        .await)?;
    let Some(order) = confirmed else { return Ok(None) };
    for line in lines {
        on_tx!(tx, |c| sqlx::query(
            "UPDATE order_items SET name = $3, unit_price_cents = $4 WHERE order_id = $1 AND product_id = $2"
        )
        .bind(id)
        .bind(line.product_id)
        .bind(&line.name)
        .bind(line.unit_price_cents)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    record(tx, &order, Actor::System, None).await?;
    Ok(Some(order))
}

/// What a move does to the call owed to products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owed {
    /// Nothing changes (shipping, delivering).
    Same,
    /// The units go back: released if never committed, returned if they were.
    GiveBack,
}

/// A move from one of `from` to `to`.
pub struct Move<'a> {
    pub to: Status,
    pub from: &'a [Status],
    /// Only from this version (an admin's optimistic lock).
    pub expected_version: Option<i64>,
    pub owed: Owed,
    /// The refusal to keep (a rejection), as JSON.
    pub rejection: Option<&'a str>,
    pub actor: Actor,
    pub reason: Option<&'a str>,
}

/// Makes `m` if the order is where it starts from; `None` otherwise (the caller reads the
/// order to say why). One conditional statement, so of two racing moves only one happens.
pub async fn make(tx: &mut Tx, id: Uuid, m: &Move<'_>) -> Result<Option<Order>, sqlx::Error> {
    let from: Vec<String> = m.from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let owed = match m.owed {
        Owed::Same => "settlement",
        Owed::GiveBack => "CASE WHEN committed THEN 'RETURN' ELSE 'RELEASE' END",
    };
    let version = if m.expected_version.is_some() { " AND version = $5" } else { "" };
    let sql = format!(
        "UPDATE orders SET status = $2, settlement = {owed}, rejection = COALESCE($3, rejection), \
         version = version + 1, updated_at = $4 WHERE id = $1 AND status IN ({}){version} RETURNING {COLUMNS}",
        from.join(", ")
    );
    let moved: Option<Order> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(&sql).bind(id).bind(m.to.as_str()).bind(m.rejection).bind(Utc::now());
        if let Some(v) = m.expected_version {
            q = q.bind(v);
        }
        q.fetch_optional(c).await
    })?;
    if let Some(order) = &moved {
        record(tx, order, m.actor, m.reason).await?;
    }
    Ok(moved)
}

async fn record(tx: &mut Tx, order: &Order, actor: Actor, reason: Option<&str>) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO order_history (order_id, version, status, actor, actor_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(order.id)
    .bind(order.version)
    .bind(&order.status)
    .bind(actor.kind())
    .bind(actor.id())
    .bind(reason)
    .bind(order.updated_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Products acknowledged `done` (`COMMIT`, `RELEASE` or `RETURN`): nothing is owed for it
/// any more, and `committed` records that products sold the units. A move made meanwhile (a
/// cancel turning a commit into a release) is kept.
pub async fn settled(db: &Db, id: Uuid, done: &str, committed: bool) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE orders SET committed = CASE WHEN $3 THEN TRUE ELSE committed END, \
         settlement = CASE WHEN settlement = $2 THEN NULL ELSE settlement END WHERE id = $1"
    )
    .bind(id)
    .bind(done)
    .bind(committed)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Products says the reservation was committed after all (a release answered `COMMITTED`):
/// giving the units back now means returning them.
pub async fn owe_return(db: &Db, id: Uuid) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "UPDATE orders SET committed = TRUE, settlement = 'RETURN' WHERE id = $1 AND settlement = 'RELEASE'"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// The status of `id` inside a transaction (what a move's event names as the previous one).
pub async fn status_tx(tx: &mut Tx, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_scalar("SELECT status FROM orders WHERE id = $1").bind(id).fetch_optional(c).await)
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<Order>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// The lines of `orders`, by order then product.
pub async fn items_of(db: &Db, orders: &[Uuid]) -> Result<Vec<Item>, sqlx::Error> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT order_id, product_id, quantity, name, unit_price_cents FROM order_items \
         WHERE order_id IN ({}) ORDER BY order_id, product_id",
        in_list(1, orders.len())
    );
    on_db!(db, |pool| {
        let mut q = sqlx::query_as(&sql);
        for id in orders {
            q = q.bind(id);
        }
        q.fetch_all(pool).await
    })
}

/// The history of `orders`, oldest change first.
pub async fn history_of(db: &Db, orders: &[Uuid]) -> Result<Vec<Change>, sqlx::Error> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT order_id, version, status, actor, actor_id, reason, at FROM order_history \
         WHERE order_id IN ({}) ORDER BY order_id, version",
        in_list(1, orders.len())
    );
    on_db!(db, |pool| {
        let mut q = sqlx::query_as(&sql);
        for id in orders {
            q = q.bind(id);
        }
        q.fetch_all(pool).await
    })
}

/// Orders that still owe products a call, least recently changed first.
pub async fn owing(db: &Db, limit: i64) -> Result<Vec<Order>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE settlement IS NOT NULL ORDER BY updated_at LIMIT $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)
}

/// Orders pending since before `before`: their saga stopped (a crash) or is slow.
pub async fn stale_pending(db: &Db, before: DateTime<Utc>, limit: i64) -> Result<Vec<Order>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE status = 'PENDING' AND updated_at < $1 ORDER BY updated_at LIMIT $2"
    );
    on_db!(db, |pool| sqlx::query_as(&sql).bind(before).bind(limit).fetch_all(pool).await)
}

/// How many orders `user` placed since `since`.
pub async fn placed_since(tx: &mut Tx, user: Uuid, since: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE user_id = $1 AND created_at > $2")
        .bind(user)
        .bind(since)
        .fetch_one(c)
        .await)
}

/// Units of `product` sold: on orders confirmed, shipped or delivered.
pub async fn units_sold(db: &Db, product: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE i.product_id = $1 AND o.status IN ('CONFIRMED', 'SHIPPED', 'DELIVERED')"
    )
    .bind(product)
    .fetch_one(pool)
    .await)
}

/// Detaches a deleted user's orders from them (amounts, items and dates stay for accounting).
pub async fn anonymize(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("UPDATE order_history SET actor_id = $2 WHERE actor_id = $1")
        .bind(user_id)
        .bind(ANONYMOUS)
        .execute(c)
        .await
        .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query("UPDATE orders SET user_id = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(ANONYMOUS)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}
