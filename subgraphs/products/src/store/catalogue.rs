//! Creating and changing products: each change is one conditional statement, so two writers
//! racing on one version or one unit of stock cannot both win.

use chrono::Utc;
use tessera_kit::{
    db::{Db, Tx, in_list},
    on_db, on_tx,
};
use uuid::Uuid;

use super::{Arg, Args, COLUMNS, Product, bind_args, json_list};
use crate::domain::{
    Status,
    money::Price,
    product::{Fields, sort_key},
};

/// A product to create, every field checked.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Price,
    pub status: Status,
    pub categories: Vec<String>,
    pub images: Vec<String>,
    pub stock: i64,
}

/// Inserts a product at version 1. A taken SKU is a unique violation (the caller names it).
pub async fn insert(tx: &mut Tx, p: &NewProduct) -> Result<Product, sqlx::Error> {
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO products (id, sku, name, name_key, description, price_cents, currency, status, categories, \
         images, stock, reserved, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 1, $12, $12) RETURNING {COLUMNS}"
    );
    let row = on_tx!(tx, |c| sqlx::query_as::<_, Product>(&sql)
        .bind(Uuid::now_v7())
        .bind(&p.sku)
        .bind(&p.name)
        .bind(sort_key(&p.name))
        .bind(&p.description)
        .bind(p.price.amount)
        .bind(&p.price.currency)
        .bind(p.status.as_str())
        .bind(json_list(&p.categories))
        .bind(json_list(&p.images))
        .bind(p.stock)
        .bind(now)
        .fetch_one(c)
        .await)?;
    set_categories(tx, row.id, &p.categories).await?;
    Ok(row)
}

/// Replaces the category rows that lists filter and count on.
async fn set_categories(tx: &mut Tx, id: Uuid, categories: &[String]) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM product_categories WHERE product_id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    for category in categories {
        on_tx!(tx, |c| sqlx::query("INSERT INTO product_categories (category, product_id) VALUES ($1, $2)")
            .bind(category)
            .bind(id)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Applies `change` if the product is at version `expected` and not archived, in one statement.
/// `None`: the version moved, the product is archived, or there is no such product (see
/// [`state`] to tell which).
/// `change` holds checked fields; `None` leaves one as it is.
pub async fn update(tx: &mut Tx, id: Uuid, expected: i64, change: &Fields) -> Result<Option<Product>, sqlx::Error> {
    let mut args = Args::default();
    let id_arg = args.push(Arg::Id(id));
    let version_arg = args.push(Arg::Int(expected));
    let now_arg = args.push(Arg::Time(Utc::now()));
    let mut sets = Vec::new();
    let mut set = |col: &str, arg: super::Arg, args: &mut Args| sets.push(format!("{col} = {}", args.push(arg)));
    if let Some(v) = &change.sku {
        set("sku", Arg::Text(v.clone()), &mut args);
    }
    if let Some(v) = &change.name {
        set("name", Arg::Text(v.clone()), &mut args);
        set("name_key", Arg::Text(sort_key(v)), &mut args);
    }
    if let Some(v) = &change.description {
        set("description", Arg::Text(v.clone()), &mut args);
    }
    if let Some(v) = &change.price {
        set("price_cents", Arg::Int(v.amount), &mut args);
        set("currency", Arg::Text(v.currency.clone()), &mut args);
    }
    if let Some(v) = change.status {
        set("status", Arg::Text(v.as_str().into()), &mut args);
    }
    if let Some(v) = &change.categories {
        set("categories", Arg::Text(json_list(v)), &mut args);
    }
    if let Some(v) = &change.images {
        set("images", Arg::Text(json_list(v)), &mut args);
    }
    let sql = format!(
        "UPDATE products SET {}version = version + 1, updated_at = {now_arg} \
         WHERE id = {id_arg} AND version = {version_arg} AND status <> 'ARCHIVED' RETURNING {COLUMNS}",
        sets.iter().map(|s| format!("{s}, ")).collect::<String>()
    );
    let row = write(tx, &sql, args).await?;
    if let (Some(row), Some(categories)) = (&row, &change.categories) {
        set_categories(tx, row.id, categories).await?;
    }
    Ok(row)
}

/// Runs a `RETURNING` write assembled at run time.
async fn write(tx: &mut Tx, sql: &str, args: Args) -> Result<Option<Product>, sqlx::Error> {
    on_tx!(tx, |c| bind_args!(sqlx::query_as::<_, Product>(sql), &args.0).fetch_optional(c).await)
}

/// Moves a product from one status to another if it is at version `expected` (archive,
/// restore). `None`: see [`state`].
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    expected: i64,
    from: &[Status],
    to: Status,
) -> Result<Option<Product>, sqlx::Error> {
    let mut args = Args::default();
    let id_arg = args.push(Arg::Id(id));
    let version_arg = args.push(Arg::Int(expected));
    let to_arg = args.push(Arg::Text(to.as_str().into()));
    let now_arg = args.push(Arg::Time(Utc::now()));
    let from_args: Vec<String> = from.iter().map(|s| args.push(Arg::Text(s.as_str().into()))).collect();
    let sql = format!(
        "UPDATE products SET status = {to_arg}, version = version + 1, updated_at = {now_arg} \
         WHERE id = {id_arg} AND version = {version_arg} AND status IN ({}) RETURNING {COLUMNS}",
        from_args.join(", ")
    );
    write(tx, &sql, args).await
}

/// Adds `delta` units (negative: removes) unless that would take stock below zero or above
/// `max`, in one statement. `None`: not enough stock, or no such product.
pub async fn adjust_stock(tx: &mut Tx, id: Uuid, delta: i64, max: i64) -> Result<Option<Product>, sqlx::Error> {
    let sql = format!(
        "UPDATE products SET stock = stock + $2, updated_at = $4 \
         WHERE id = $1 AND stock + $2 >= 0 AND stock + $2 <= $3 RETURNING {COLUMNS}"
    );
    on_tx!(tx, |c| sqlx::query_as::<_, Product>(&sql)
        .bind(id)
        .bind(delta)
        .bind(max)
        .bind(Utc::now())
        .fetch_optional(c)
        .await)
}

/// A product's version, status and stock as the transaction sees them (`None`: no such product),
/// to explain a conditional write that matched nothing.
pub async fn state(tx: &mut Tx, id: Uuid) -> Result<Option<(i64, String, i64)>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as("SELECT version, status, stock FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<Product>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn by_sku(db: &Db, sku: &str) -> Result<Option<Product>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE sku = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(sku).fetch_optional(pool).await)
}

/// The products of `ids` that exist, in one statement whatever the count (entity batches).
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<Product>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM products WHERE id IN ({})", in_list(1, ids.len()));
    on_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, Product>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM products").fetch_one(pool).await)
}
