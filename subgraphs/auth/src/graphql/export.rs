//! Auth's part of `exportMyData` (the root is in the users subgraph): the account, every
//! session and the whole audit trail. Secrets are not personal data to hand back: password and
//! code hashes, TOTP secrets and refresh-token hashes are left out.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::ApiError;
use uuid::Uuid;

use super::{audit::SecurityEvent, state, time};
use crate::{audit::SecurityEventKind, loader::Loaders, store};

/// The account as auth stores it.
#[derive(SimpleObject)]
pub struct ExportedAccount {
    pub id: ID,
    pub email: String,
    pub username: String,
    pub email_verified: bool,
    /// The phone number verified by a one-time code, if any.
    pub phone: Option<String>,
    pub mfa_enabled: bool,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// One sign-in, as stored: revoked and expired ones too.
#[derive(SimpleObject)]
pub struct ExportedSession {
    pub id: ID,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct DataExport {
    user_id: Uuid,
}

#[Object]
impl DataExport {
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }

    /// The account: email, username, phone, roles, MFA.
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<ExportedAccount>, ApiError> {
        let Some(a) = store::accounts::by_id(&state(ctx).rt.db, self.user_id).await? else { return Ok(None) };
        let roles = ctx.data_unchecked::<Loaders>().roles.load_one(a.id).await.ok().flatten().unwrap_or_default();
        Ok(Some(ExportedAccount {
            id: ID(a.id.to_string()),
            email: a.email,
            username: a.username,
            email_verified: a.email_verified,
            phone: a.phone,
            mfa_enabled: a.mfa_enabled,
            roles,
            created_at: a.created_at,
        }))
    }

    /// Every session, oldest first, with its address and device.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<ExportedSession>, ApiError> {
        let rows = store::sessions::all(&state(ctx).rt.db, self.user_id).await?;
        Ok(rows
            .into_iter()
            .map(|s| ExportedSession {
                id: ID(s.id.to_string()),
                ip: s.ip,
                user_agent: s.user_agent,
                created_at: time(s.created_at),
                last_used_at: time(s.last_used_at),
                expires_at: time(s.expires_at),
                revoked_at: s.revoked_at.map(time),
            })
            .collect())
    }

    /// The whole audit trail, oldest first.
    async fn security_events(&self, ctx: &Context<'_>) -> Result<Vec<SecurityEvent>, ApiError> {
        let rows = store::events::all(&state(ctx).rt.db, self.user_id).await?;
        Ok(rows
            .into_iter()
            .map(|e| SecurityEvent {
                id: ID(e.id.to_string()),
                kind: SecurityEventKind::parse(&e.kind),
                ip: e.ip,
                user_agent: e.user_agent,
                detail: e.detail,
                occurred_at: time(e.occurred_at),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Only the user themself: not even an admin exports someone else's data.
    #[graphql(entity)]
    async fn find_data_export_by_user_id(&self, ctx: &Context<'_>, user_id: ID) -> Result<DataExport, ApiError> {
        Ok(DataExport { user_id: tessera_kit::identity::require_self_id(ctx, "userId", &user_id)? })
    }
}
