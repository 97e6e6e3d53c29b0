//! Stock reservations: all or nothing, idempotent by id, never below zero.
//!
//! Each line takes its units with one conditional `UPDATE ... WHERE stock >= quantity`. On
//! PostgreSQL a second writer of the same row waits for the first and then re-reads the row
//! before its condition is checked; on SQLite writers are serialized (`BEGIN IMMEDIATE`). Either
//! way no interleaving can take a unit twice, and the CHECK on `stock` stands behind both.

use chrono::{DateTime, Utc};
use tessera_kit::{
    db::{Db, Tx},
    on_db, on_tx,
};
use uuid::Uuid;

use crate::domain::reservation::Items;

/// A line as it was reserved: the units and the price the product had then.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Line {
    pub product_id: Uuid,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub currency: String,
    pub name: String,
}

/// A product's `(stock, reserved)` after a reservation moved it.
pub type Levels = Vec<(Uuid, i64, i64)>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reservation {
    pub id: Uuid,
    pub fingerprint: String,
    pub state: String,
    pub expires_at: i64,
    pub created_at: DateTime<Utc>,
    /// Set once the units of a committed reservation went back to stock (a cancelled order).
    pub returned_at: Option<DateTime<Utc>>,
}

impl Reservation {
    /// The state as callers see it: a committed reservation whose units came back is `RETURNED`.
    pub fn visible_state(&self) -> &str {
        if self.returned_at.is_some() { "RETURNED" } else { &self.state }
    }
}

const COLUMNS: &str = "id, fingerprint, state, expires_at, created_at, returned_at";

/// A product a reservation could not have enough of, and how many were left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub product_id: Uuid,
    pub requested: i64,
    pub available: i64,
}

/// What [`reserve`] did.
#[derive(Debug)]
pub enum Reserved {
    /// Newly held (the transaction holds the changes; commit it).
    Held(Reservation, Vec<Line>, Levels),
    /// A reservation with this id and these items exists already: nothing was taken again.
    Replayed(Reservation, Vec<Line>),
    /// The id is taken by a reservation of other items.
    Mismatch,
    /// Not enough of these; the caller rolls back, so nothing was taken.
    Short(Vec<Shortage>),
}

/// Holds every line of `items` until `expires_at` (ms since the epoch), or none of them.
pub async fn reserve(
    tx: &mut Tx,
    id: Uuid,
    items: &Items,
    client: &str,
    expires_at: i64,
) -> Result<Reserved, sqlx::Error> {
    let now = Utc::now();
    let fingerprint = items.fingerprint();
    // First, so that of two calls with one id the second waits here and then finds the first.
    let inserted: Option<Reservation> = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO reservations (id, fingerprint, state, client, expires_at, created_at, updated_at) \
         VALUES ($1, $2, 'HELD', $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING \
         RETURNING id, fingerprint, state, expires_at, created_at, returned_at"
    )
    .bind(id)
    .bind(&fingerprint)
    .bind(client)
    .bind(expires_at)
    .bind(now)
    .fetch_optional(c)
    .await)?;
    let Some(reservation) = inserted else {
        let existing = by_id(tx, id).await?.expect("the conflicting row exists");
        if existing.fingerprint != fingerprint {
            return Ok(Reserved::Mismatch);
        }
        let lines = lines(tx, id).await?;
        return Ok(Reserved::Replayed(existing, lines));
    };
    let mut held = Vec::with_capacity(items.lines().len());
    let mut levels = Vec::with_capacity(items.lines().len());
    let mut short = Vec::new();
    for &(product_id, quantity) in items.lines() {
        let taken: Option<(i64, String, i64, i64, String)> = on_tx!(tx, |c| sqlx::query_as(
            "UPDATE products SET stock = stock - $2, reserved = reserved + $2, updated_at = $3 \
             WHERE id = $1 AND status = 'ACTIVE' AND stock >= $2 RETURNING price_cents, currency, stock, reserved, name"
        )
        .bind(product_id)
        .bind(quantity)
        .bind(now)
        .fetch_optional(c)
        .await)?;
        match taken {
            Some((unit_price_cents, currency, stock, reserved, name)) => {
                held.push(Line { product_id, quantity, unit_price_cents, currency, name });
                levels.push((product_id, stock, reserved));
            }
            None => {
                let available: Option<(i64, String)> =
                    on_tx!(tx, |c| sqlx::query_as("SELECT stock, status FROM products WHERE id = $1")
                        .bind(product_id)
                        .fetch_optional(c)
                        .await)?;
                let available = available.filter(|(_, status)| status == "ACTIVE").map_or(0, |(stock, _)| stock);
                short.push(Shortage { product_id, requested: quantity, available });
            }
        }
    }
    if !short.is_empty() {
        return Ok(Reserved::Short(short));
    }
    for line in &held {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO reservation_items (reservation_id, product_id, quantity, unit_price_cents, currency, name) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(id)
        .bind(line.product_id)
        .bind(line.quantity)
        .bind(line.unit_price_cents)
        .bind(&line.currency)
        .bind(&line.name)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    Ok(Reserved::Held(reservation, held, levels))
}

/// What [`settle`] did.
#[derive(Debug)]
pub enum Settled {
    /// Moved now; these lines changed stock, to these levels.
    Done(Reservation, Vec<Line>, Levels),
    /// Already where it was asked to go: nothing changed.
    Already(Reservation, Vec<Line>),
    /// Somewhere the change does not start from (another final state, held past its expiry
    /// for a commit, not committed for a return).
    Refused(Reservation),
    NotFound,
}

/// How a reservation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Sold: the held units leave `reserved` for good.
    Commit,
    /// Given back: the held units return to `stock`.
    Release,
    /// A sale undone (the order was cancelled after its commit): the units return to `stock`.
    Return,
}

impl Outcome {
    /// The state callers see once this outcome happened.
    pub fn state(self) -> &'static str {
        match self {
            Outcome::Commit => "COMMITTED",
            Outcome::Release => "RELEASED",
            Outcome::Return => "RETURNED",
        }
    }

    /// Whether units go back on sale (and so `StockChanged` is due).
    pub fn restocks(self) -> bool {
        self != Outcome::Commit
    }
}

/// Moves a reservation once: the state moves in one conditional statement, so of two calls (a
/// retry, a sweep racing a commit, two replicas) exactly one changes stock. A commit past the
/// expiry is refused: the sweep is about to give those units back.
pub async fn settle(tx: &mut Tx, id: Uuid, outcome: Outcome) -> Result<Settled, sqlx::Error> {
    let now = Utc::now();
    let moved: Option<Reservation> = match outcome {
        Outcome::Commit | Outcome::Release => {
            let deadline = if outcome == Outcome::Commit { now.timestamp_millis() } else { i64::MIN };
            let sql = format!(
                "UPDATE reservations SET state = $2, updated_at = $3 WHERE id = $1 AND state = 'HELD' \
                 AND expires_at > $4 RETURNING {COLUMNS}"
            );
            on_tx!(tx, |c| sqlx::query_as(&sql)
                .bind(id)
                .bind(outcome.state())
                .bind(now)
                .bind(deadline)
                .fetch_optional(c)
                .await)?
        }
        Outcome::Return => {
            let sql = format!(
                "UPDATE reservations SET returned_at = $2, updated_at = $2 WHERE id = $1 AND state = 'COMMITTED' \
                 AND returned_at IS NULL RETURNING {COLUMNS}"
            );
            on_tx!(tx, |c| sqlx::query_as(&sql).bind(id).bind(now).fetch_optional(c).await)?
        }
    };
    let Some(reservation) = moved else {
        return Ok(match by_id(tx, id).await? {
            None => Settled::NotFound,
            Some(r) if r.visible_state() == outcome.state() => {
                let lines = lines(tx, id).await?;
                Settled::Already(r, lines)
            }
            Some(r) => Settled::Refused(r),
        });
    };
    let lines = lines(tx, id).await?;
    let sql = match outcome {
        Outcome::Commit => {
            "UPDATE products SET reserved = reserved - $2, updated_at = $3 WHERE id = $1 RETURNING stock, reserved"
        }
        Outcome::Release => {
            "UPDATE products SET stock = stock + $2, reserved = reserved - $2, updated_at = $3 WHERE id = $1 \
             RETURNING stock, reserved"
        }
        Outcome::Return => {
            "UPDATE products SET stock = stock + $2, updated_at = $3 WHERE id = $1 RETURNING stock, reserved"
        }
    };
    let mut levels = Vec::with_capacity(lines.len());
    for line in &lines {
        let (stock, reserved): (i64, i64) =
            on_tx!(tx, |c| sqlx::query_as(sql).bind(line.product_id).bind(line.quantity).bind(now).fetch_one(c).await)?;
        levels.push((line.product_id, stock, reserved));
    }
    Ok(Settled::Done(reservation, lines, levels))
}

async fn by_id(tx: &mut Tx, id: Uuid) -> Result<Option<Reservation>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM reservations WHERE id = $1");
    on_tx!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
}

async fn lines(tx: &mut Tx, id: Uuid) -> Result<Vec<Line>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(
        "SELECT product_id, quantity, unit_price_cents, currency, name FROM reservation_items \
         WHERE reservation_id = $1 ORDER BY product_id"
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

/// Held reservations past their expiry, oldest first, at most `limit`.
pub async fn expired(db: &Db, now_ms: i64, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM reservations WHERE state = 'HELD' AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(pool)
    .await)
}
