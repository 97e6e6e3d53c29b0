//! The audit trail: `mySecurityEvents` for the user, `securityEvents(userId)` for admins.
//! Relay connections, newest first, keyset-paged by event id (UUIDv7 is time-ordered).

use async_graphql::{
    Context, ID, Object, SimpleObject,
    connection::{Connection, Edge, EmptyFields},
};
use chrono::{DateTime, Utc};
use tessera_kit::{
    ApiError,
    identity::{Authenticated, RequireScopes},
    paging::Page,
};
use uuid::Uuid;

use super::{me, state, time, uuid};
use crate::{audit::SecurityEventKind, store};

#[derive(SimpleObject)]
pub struct SecurityEvent {
    pub id: ID,
    pub kind: Option<SecurityEventKind>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
    pub occurred_at: DateTime<Utc>,
}

type Events = Connection<String, SecurityEvent, EventCount, EmptyFields>;

#[derive(SimpleObject)]
pub struct EventCount {
    pub total_count: i64,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The caller's security events: sign-ins, lockouts, password and MFA changes, revocations.
    #[graphql(directive = tessera_kit::identity::authenticated::apply(), guard = "Authenticated")]
    async fn my_security_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Events, ApiError> {
        page(ctx, me(ctx)?.0, first, after).await
    }

    /// Any user's security events. Admins only.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn security_events(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Events, ApiError> {
        page(ctx, uuid("userId", &user_id)?, first, after).await
    }
}

async fn page(ctx: &Context<'_>, account: Uuid, first: Option<i32>, after: Option<String>) -> Result<Events, ApiError> {
    // Newest first, so the cursor to continue after is the oldest event seen.
    let page = Page::parse(first, after.as_deref(), "events")?;
    let before = page.after;
    let db = &state(ctx).rt.db;
    let mut rows = store::events::page(db, account, before, page.fetch()).await?;
    let has_next = rows.len() > page.first;
    rows.truncate(page.first);
    let total_count = store::events::count(db, account).await?;
    let mut connection = Connection::with_additional_fields(before.is_some(), has_next, EventCount { total_count });
    connection.edges.extend(rows.into_iter().map(|e| {
        Edge::new(
            e.id.to_string(),
            SecurityEvent {
                id: ID(e.id.to_string()),
                kind: SecurityEventKind::parse(&e.kind),
                ip: e.ip,
                user_agent: e.user_agent,
                detail: e.detail,
                occurred_at: time(e.occurred_at),
            },
        )
    }));
    Ok(connection)
}
