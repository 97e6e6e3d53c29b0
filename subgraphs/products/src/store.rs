//! The products subgraph's SQL, and nothing else.

use chrono::{DateTime, Utc};
use tessera_kit::{db::Db, on_db};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Product {
    pub id: Uuid,
    pub name: String,
    pub price_cents: i64,
    pub currency: String,
    pub stock: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn product(db: &Db, id: Uuid) -> Result<Option<Product>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "SELECT id, name, price_cents, currency, stock, version, created_at FROM products WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)
}

pub async fn insert(db: &Db, name: &str, price_cents: i64, currency: &str, stock: i64) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO products (id, name, price_cents, currency, stock, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(id)
    .bind(name)
    .bind(price_cents)
    .bind(currency)
    .bind(stock)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(id)
}
