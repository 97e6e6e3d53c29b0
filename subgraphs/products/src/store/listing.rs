//! Lists of products: filters, full-text search and keyset pages in every sort order.

use tessera_kit::{db::Db, on_db};

use super::{Arg, Args, COLUMNS, Product, bind_args};
use crate::domain::{
    listing::{Cursor, Filter, Key, Order},
    search::Terms,
};

/// The one place the backends' SQL differs: how a search matches and how it ranks.
/// SQLite: FTS5 over name and description; a row ranks 2 when every word is in its name, else 1.
/// (FTS5's bm25 weighs words by how rare they are in the whole table, so a rank would move
/// when products are added, and a relevance cursor would skip or repeat rows.)
/// PostgreSQL: the `search` tsvector (name weighted A, description B) under a GIN index, ranked
/// by `ts_rank`, which reads only the row itself.
fn search_sql(db: &Db, terms: &Terms, args: &mut Args) -> (String, String) {
    match db {
        Db::Sqlite(_) => {
            let all = args.push(Arg::Text(terms.fts5()));
            let in_name = args.push(Arg::Text(terms.fts5_in_name()));
            (
                format!("seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {all})"),
                format!(
                    "CASE WHEN seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {in_name}) \
                     THEN 2 ELSE 1 END"
                ),
            )
        }
        Db::Postgres(_) => {
            let query = args.push(Arg::Text(terms.tsquery()));
            (
                format!("search @@ to_tsquery('english', {query})"),
                format!("CAST(ts_rank(search, to_tsquery('english', {query})) * 1000000 AS BIGINT)"),
            )
        }
    }
}

/// The filter's conditions (joined by AND; `TRUE` when none) and, when searching, the rank.
fn conditions(db: &Db, filter: &Filter, args: &mut Args) -> (String, Option<String>) {
    let mut conds = Vec::new();
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter.statuses.iter().map(|s| args.push(Arg::Text(s.as_str().into()))).collect();
        // Searching on SQLite, the matches (a few thousand rows at most) should drive the query
        // by rowid; left to itself the planner walks the status index over every product
        // instead, three times slower on 100k products (measured). A unary `+` keeps the
        // index out. (PostgreSQL plans this well, and has no unary `+` on text.)
        let column = if filter.search.is_some() && matches!(db, Db::Sqlite(_)) { "+status" } else { "status" };
        conds.push(format!("{column} IN ({})", list.join(", ")));
    }
    let mut rank = None;
    if let Some(terms) = &filter.search {
        let (matches, ranked) = search_sql(db, terms, args);
        conds.push(matches);
        rank = Some(ranked);
    }
    if let Some(category) = &filter.category {
        let arg = args.push(Arg::Text(category.clone()));
        conds.push(format!("id IN (SELECT product_id FROM product_categories WHERE category = {arg})"));
    }
    if let Some(min) = filter.min_price {
        conds.push(format!("price_cents >= {}", args.push(Arg::Int(min))));
    }
    if let Some(max) = filter.max_price {
        conds.push(format!("price_cents <= {}", args.push(Arg::Int(max))));
    }
    if filter.in_stock {
        conds.push("stock > 0".into());
    }
    let conds = if conds.is_empty() { "TRUE".into() } else { conds.join(" AND ") };
    (conds, rank)
}

/// The column a sort order keys on, and how a cursor's key binds.
fn key_column(order: Order) -> &'static str {
    match order {
        Order::Rank => "rank",
        Order::Newest => "id",
        Order::PriceAsc | Order::PriceDesc => "price_cents",
        Order::Name => "name_key",
    }
}

/// One page: up to `limit` rows after `after`, in `order`.
pub async fn page(
    db: &Db,
    filter: &Filter,
    order: Order,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<Product>, sqlx::Error> {
    let mut args = Args::default();
    let (conds, rank) = conditions(db, filter, &mut args);
    let dir = if order.descending() { "DESC" } else { "ASC" };
    let cmp = if order.descending() { "<" } else { ">" };
    let column = key_column(order);
    let keyset = match after {
        None => "TRUE".to_owned(),
        Some(Cursor { key: Key::Id, id, .. }) => format!("id {cmp} {}", args.push(Arg::Id(*id))),
        Some(Cursor { key, id, .. }) => {
            let key = match key {
                Key::Int(n) => args.push(Arg::Int(*n)),
                Key::Text(s) => args.push(Arg::Text(s.clone())),
                Key::Id => unreachable!("matched above"),
            };
            format!("({column}, id) {cmp} ({key}, {})", args.push(Arg::Id(*id)))
        }
    };
    let limit = args.push(Arg::Int(limit));
    let order_by = if order == Order::Newest { format!("id {dir}") } else { format!("{column} {dir}, id {dir}") };
    let sql = match (order, rank) {
        // The rank is computed per row, so the keyset applies to it from outside.
        (Order::Rank, Some(rank)) => format!(
            "SELECT * FROM (SELECT {COLUMNS}, {rank} AS rank FROM products WHERE {conds}) ranked \
             WHERE {keyset} ORDER BY {order_by} LIMIT {limit}"
        ),
        _ => format!("SELECT {COLUMNS} FROM products WHERE {conds} AND {keyset} ORDER BY {order_by} LIMIT {limit}"),
    };
    on_db!(db, |pool| bind_args!(sqlx::query_as::<_, Product>(&sql), &args.0).fetch_all(pool).await)
}

/// How many products the filter holds, cursor aside.
pub async fn count(db: &Db, filter: &Filter) -> Result<i64, sqlx::Error> {
    let mut args = Args::default();
    let (conds, _) = conditions(db, filter, &mut args);
    let sql = format!("SELECT COUNT(*) FROM products WHERE {conds}");
    on_db!(db, |pool| bind_args!(sqlx::query_scalar::<_, i64>(&sql), &args.0).fetch_one(pool).await)
}

/// Every category that holds an active product, with how many it holds, by name.
pub async fn categories(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(
        "SELECT c.category, COUNT(*) FROM product_categories c JOIN products p ON p.id = c.product_id \
         WHERE p.status = 'ACTIVE' GROUP BY c.category ORDER BY c.category"
    )
    .fetch_all(pool)
    .await)
}
