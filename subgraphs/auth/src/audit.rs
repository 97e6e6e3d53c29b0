//! Security events: written in the same transaction as the change they describe.

use tessera_kit::{client::ClientInfo, db::Tx};
use uuid::Uuid;

use crate::store::{self, events::SecurityEvent};

/// What happened. The names are stored and shown, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum SecurityEventKind {
    Registered,
    EmailVerified,
    LoginSucceeded,
    LoginFailed,
    AccountLockedOut,
    MfaChallenged,
    MfaFailed,
    SessionRevoked,
    RefreshTokenReused,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    RoleAssigned,
    RoleRevoked,
    AccountLocked,
    AccountUnlocked,
    AccountDisabled,
    MfaEnabled,
    MfaDisabled,
    RecoveryCodeUsed,
    OtpRequested,
    OtpVerified,
    AccountDeleted,
    SecondFactorLockedOut,
    Reauthenticated,
    RegistrationAttempted,
}

impl SecurityEventKind {
    /// The stored name: the GraphQL enum value, so the two can never drift apart.
    pub fn as_str(self) -> &'static str {
        Self::items().iter().find(|i| i.value == self).map_or("UNKNOWN", |i| i.name)
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::items().iter().find(|i| i.name == stored).map(|i| i.value)
    }

    fn items() -> &'static [async_graphql::resolver_utils::EnumItem<Self>] {
        <Self as async_graphql::resolver_utils::EnumType>::items()
    }
}

/// Security events by kind, for every auth process this binary runs (its `/metrics` shows them
/// as `tessera_security_events_total{kind}`): failed sign-ins, lockouts, stolen refresh tokens.
/// Counted when recorded, inside the transaction: a rolled-back one still counts, which errs
/// towards alerting.
pub static EVENTS: std::sync::LazyLock<prometheus::IntCounterVec> = std::sync::LazyLock::new(|| {
    prometheus::IntCounterVec::new(
        prometheus::Opts::new("security_events_total", "Security events recorded, by kind"),
        &["kind"],
    )
    .expect("a valid metric")
});

/// Records an event about `account` (None: an identifier with no account, e.g. a failed
/// sign-in). `detail` is for people, and never holds a secret.
pub async fn record(
    tx: &mut Tx,
    account: Option<Uuid>,
    kind: SecurityEventKind,
    client: &ClientInfo,
    detail: impl Into<String>,
) -> Result<(), sqlx::Error> {
    let event = SecurityEvent {
        id: Uuid::now_v7(),
        account_id: account,
        kind: kind.as_str().to_owned(),
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: client.user_agent.clone(),
        detail: detail.into(),
        occurred_at: store::now(),
    };
    EVENTS.with_label_values(&[kind.as_str()]).inc();
    store::events::insert(tx, &event).await
}

/// Records an event in its own transaction (for failures, which change nothing else).
pub async fn record_alone(
    db: &tessera_kit::db::Db,
    account: Option<Uuid>,
    kind: SecurityEventKind,
    client: &ClientInfo,
    detail: impl Into<String>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    record(&mut tx, account, kind, client, detail).await?;
    tx.commit().await
}
