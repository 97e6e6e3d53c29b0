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
}

impl SecurityEventKind {
    /// The stored name: the GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "REGISTERED",
            Self::EmailVerified => "EMAIL_VERIFIED",
            Self::LoginSucceeded => "LOGIN_SUCCEEDED",
            Self::LoginFailed => "LOGIN_FAILED",
            Self::AccountLockedOut => "ACCOUNT_LOCKED_OUT",
            Self::MfaChallenged => "MFA_CHALLENGED",
            Self::MfaFailed => "MFA_FAILED",
            Self::SessionRevoked => "SESSION_REVOKED",
            Self::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Self::PasswordResetRequested => "PASSWORD_RESET_REQUESTED",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::RoleAssigned => "ROLE_ASSIGNED",
            Self::RoleRevoked => "ROLE_REVOKED",
            Self::AccountLocked => "ACCOUNT_LOCKED",
            Self::AccountUnlocked => "ACCOUNT_UNLOCKED",
            Self::AccountDisabled => "ACCOUNT_DISABLED",
            Self::MfaEnabled => "MFA_ENABLED",
            Self::MfaDisabled => "MFA_DISABLED",
            Self::RecoveryCodeUsed => "RECOVERY_CODE_USED",
            Self::OtpRequested => "OTP_REQUESTED",
            Self::OtpVerified => "OTP_VERIFIED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        ALL.iter().copied().find(|k| k.as_str() == stored)
    }
}

const ALL: [SecurityEventKind; 22] = [
    SecurityEventKind::Registered,
    SecurityEventKind::EmailVerified,
    SecurityEventKind::LoginSucceeded,
    SecurityEventKind::LoginFailed,
    SecurityEventKind::AccountLockedOut,
    SecurityEventKind::MfaChallenged,
    SecurityEventKind::MfaFailed,
    SecurityEventKind::SessionRevoked,
    SecurityEventKind::RefreshTokenReused,
    SecurityEventKind::PasswordResetRequested,
    SecurityEventKind::PasswordReset,
    SecurityEventKind::PasswordChanged,
    SecurityEventKind::RoleAssigned,
    SecurityEventKind::RoleRevoked,
    SecurityEventKind::AccountLocked,
    SecurityEventKind::AccountUnlocked,
    SecurityEventKind::AccountDisabled,
    SecurityEventKind::MfaEnabled,
    SecurityEventKind::MfaDisabled,
    SecurityEventKind::RecoveryCodeUsed,
    SecurityEventKind::OtpRequested,
    SecurityEventKind::OtpVerified,
];

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
