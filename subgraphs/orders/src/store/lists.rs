//! Order lists, newest first, by keyset on the id (UUIDv7: id order is time order).

use tessera_kit::{db::Db, on_db};
use uuid::Uuid;

use super::{COLUMNS, Order};
use crate::domain::Status;

/// Which orders a list holds.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user: Option<Uuid>,
    pub status: Option<Status>,
}

impl Filter {
    /// The WHERE clause, its placeholders from `$1`, and how many it used.
    fn sql(&self) -> (String, usize) {
        let mut conditions = vec!["1 = 1".to_owned()];
        let mut n = 0;
        if self.user.is_some() {
            n += 1;
            conditions.push(format!("user_id = ${n}"));
        }
        if self.status.is_some() {
            n += 1;
            conditions.push(format!("status = ${n}"));
        }
        (conditions.join(" AND "), n)
    }
}

macro_rules! bind_filter {
    ($q:expr, $f:expr) => {{
        let mut q = $q;
        if let Some(user) = $f.user {
            q = q.bind(user);
        }
        if let Some(status) = $f.status {
            q = q.bind(status.as_str());
        }
        q
    }};
}

/// Up to `limit` orders after the cursor `after`.
pub async fn page(db: &Db, filter: &Filter, after: Option<Uuid>, limit: i64) -> Result<Vec<Order>, sqlx::Error> {
    let (mut condition, n) = filter.sql();
    if after.is_some() {
        condition.push_str(&format!(" AND id < ${}", n + 1));
    }
    let limit_at = n + 1 + usize::from(after.is_some());
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE {condition} ORDER BY id DESC LIMIT ${limit_at}");
    on_db!(db, |pool| {
        let mut q = bind_filter!(sqlx::query_as(&sql), filter);
        if let Some(after) = after {
            q = q.bind(after);
        }
        q.bind(limit).fetch_all(pool).await
    })
}

pub async fn count(db: &Db, filter: &Filter) -> Result<i64, sqlx::Error> {
    let (condition, _) = filter.sql();
    let sql = format!("SELECT COUNT(*) FROM orders WHERE {condition}");
    on_db!(db, |pool| bind_filter!(sqlx::query_scalar(&sql), filter).fetch_one(pool).await)
}
