//! `users`: the admin directory of accounts, searched by email or username and filtered by
//! role; a Relay connection keyset-paged in registration order. Profile fields of each user
//! (display name, avatar) come from the users subgraph, one `_entities` batch per page.

use async_graphql::{
    Context, Object, SimpleObject,
    connection::{Connection, Edge, EmptyFields},
};
use tessera_kit::{ApiError, identity::RequireScopes, paging::Page};

use super::{User, state};
use crate::store::{self, directory::Filter};

const SEARCH_MAX: usize = 100;

type Users = Connection<String, User, UserCount, EmptyFields>;

#[derive(SimpleObject)]
pub struct UserCount {
    /// How many users match the search and role, on every page.
    pub total_count: i64,
}

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// Every account, oldest first. `search` matches any part of the email or username,
    /// case-insensitively; `role` keeps the users holding it. Admins only.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
        role: Option<String>,
    ) -> Result<Users, ApiError> {
        let page = Page::parse(first, after.as_deref(), "users")?;
        let search = search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > SEARCH_MAX) {
            return Err(ApiError::bad_input("search", format!("Search with at most {SEARCH_MAX} characters.")));
        }
        let filter = Filter { search, role: role.as_deref().map(super::admin::role).transpose()? };
        let db = &state(ctx).rt.db;
        let mut rows = store::directory::page(db, &filter, page.after, page.fetch()).await?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let total_count = store::directory::count(db, &filter).await?;
        let mut connection =
            Connection::with_additional_fields(page.after.is_some(), has_next, UserCount { total_count });
        connection.edges.extend(rows.into_iter().map(|a| Edge::new(a.id.to_string(), User::from_account(a))));
        Ok(connection)
    }
}
