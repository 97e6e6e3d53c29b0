//! The products subgraph's SQL, and nothing else. Where the backends' SQL must differ (full-text
//! search), the difference lives in one function here.

pub mod catalogue;
pub mod listing;
pub mod reservations;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A product row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Product {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub name_key: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    pub status: String,
    /// JSON array of category slugs.
    pub categories: String,
    /// JSON array of https URLs.
    pub images: String,
    pub stock: i64,
    pub reserved: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The search rank, in lists ordered by relevance (0 elsewhere).
    #[sqlx(default)]
    pub rank: i64,
}

const COLUMNS: &str = "id, sku, name, name_key, description, price_cents, currency, status, categories, images, \
                       stock, reserved, version, created_at, updated_at";

/// One bind value of a query assembled at run time (filters, cursors).
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
    Id(Uuid),
    Time(DateTime<Utc>),
}

/// Binds `args` in order onto a query, on whichever backend the arm of `on_db!` runs.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::store::Arg::Text(s) => query.bind(s.clone()),
                $crate::store::Arg::Int(n) => query.bind(*n),
                $crate::store::Arg::Id(id) => query.bind(*id),
                $crate::store::Arg::Time(t) => query.bind(*t),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// The args of a query and the next placeholder number.
#[derive(Debug, Default)]
pub struct Args(pub Vec<Arg>);

impl Args {
    /// Adds `arg` and returns its placeholder (`$3`).
    pub fn push(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len())
    }
}

/// A JSON array of strings, as stored.
pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialize")
}

/// Reads a stored JSON array of strings (written only by [`json_list`]).
pub fn read_list(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}
