//! The admin directory: accounts by search and role, keyset-paged in id order (UUIDv7, so
//! registration order, stable under inserts), plus batch lookups for entity resolution.

use std::collections::HashMap;

use tessera_kit::{
    db::{Db, in_list},
    on_db,
};
use uuid::Uuid;

use super::{Account, accounts::COLUMNS};

/// Which accounts a listing covers. Deleted accounts are never listed.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Matched, case-insensitively, anywhere in the email or username.
    pub search: Option<String>,
    pub role: Option<String>,
}

impl Filter {
    /// The WHERE clause and its values, numbered from `$1`.
    fn clause(&self) -> (String, Vec<String>) {
        let mut sql = String::from("deleted_at IS NULL");
        let mut values = Vec::new();
        if let Some(search) = &self.search {
            values.push(format!("%{}%", escape_like(&search.to_lowercase())));
            let n = values.len();
            sql.push_str(&format!(" AND (email LIKE ${n} ESCAPE '\\' OR username LIKE ${n} ESCAPE '\\')"));
        }
        if let Some(role) = &self.role {
            values.push(role.clone());
            let n = values.len();
            sql.push_str(&format!(" AND id IN (SELECT account_id FROM account_roles WHERE role = ${n})"));
        }
        (sql, values)
    }
}

/// `%`, `_` and `\` match literally: a search for `a_b` is not a pattern.
fn escape_like(s: &str) -> String {
    s.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect()
}

/// Up to `limit` accounts after `after` in id order.
pub async fn page(db: &Db, filter: &Filter, after: Option<Uuid>, limit: i64) -> Result<Vec<Account>, sqlx::Error> {
    let (mut clause, values) = filter.clause();
    let after_n = values.len() + 1;
    if after.is_some() {
        clause.push_str(&format!(" AND id > ${after_n}"));
    }
    let limit_n = after_n + usize::from(after.is_some());
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE {clause} ORDER BY id LIMIT ${limit_n}");
    on_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, Account>(&sql);
        for v in &values {
            query = query.bind(v);
        }
        if let Some(after) = after {
            query = query.bind(after);
        }
        query.bind(limit).fetch_all(pool).await
    })
}

/// How many accounts the filter covers in all.
pub async fn count(db: &Db, filter: &Filter) -> Result<i64, sqlx::Error> {
    let (clause, values) = filter.clause();
    let sql = format!("SELECT COUNT(*) FROM accounts WHERE {clause}");
    on_db!(db, |pool| {
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for v in &values {
            query = query.bind(v);
        }
        query.fetch_one(pool).await
    })
}

/// The accounts of `ids` that exist, in one statement.
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<Account>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id IN ({})", in_list(1, ids.len()));
    on_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, Account>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })
}

/// The roles of each of `ids`, in one statement (sorted, so answers are stable).
pub async fn roles_of(db: &Db, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<String>>, sqlx::Error> {
    let mut roles: HashMap<Uuid, Vec<String>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    if ids.is_empty() {
        return Ok(roles);
    }
    let sql = format!(
        "SELECT account_id, role FROM account_roles WHERE account_id IN ({}) ORDER BY role",
        in_list(1, ids.len())
    );
    let rows: Vec<(Uuid, String)> = on_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, (Uuid, String)>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })?;
    for (id, role) in rows {
        roles.entry(id).or_default().push(role);
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_a_search_match_literally() {
        assert_eq!(escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}
