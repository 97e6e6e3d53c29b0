//! The identity rules the auth subgraph enforces: token lifetimes, lockout, password hashing,
//! one-time codes and the per-IP budgets. Every protection is on by default; the numbers are
//! the ones DESIGN.md and the auth issue name.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Lifetime of an access token (JWT), in seconds.
    pub access_token_seconds: i64,
    /// A session whose refresh token is not used for this long ends, in seconds.
    pub session_idle_seconds: i64,
    /// A session ends this long after sign-in whatever happens, in seconds (7 days).
    pub session_absolute_seconds: i64,
    /// A rotated refresh token presented again within this many seconds of its rotation is
    /// refused without revoking the session: two browser tabs refreshing at once are not an
    /// attack. After it, reuse revokes the whole session. 0 makes every reuse a revocation.
    pub refresh_reuse_grace_seconds: i64,
    /// Sign-in needs a verified email address (on in the production profile).
    pub require_verified_email: bool,
    /// Consecutive failed sign-ins that lock an identifier.
    pub lockout_threshold: i64,
    /// The first lock's length, in seconds; each repeated lock doubles it.
    pub lockout_base_seconds: i64,
    /// The longest lock, in seconds.
    pub lockout_max_seconds: i64,
    /// Wrong second-factor codes (authenticator, recovery or step-up codes) an account allows,
    /// across every challenge and sign-in, before its second factor locks. Locks back off like
    /// sign-in locks (`lockout_base_seconds`, doubling, up to `lockout_max_seconds`).
    pub mfa_lockout_threshold: i64,
    /// How recent a proof of the user (sign-in, `reauthenticate`) must be for a sensitive change
    /// (second factors, phone, password, deletion), in seconds.
    pub step_up_seconds: i64,
    /// How long a device token (issued at sign-in, so a known device keeps its own failure
    /// budget) stays valid, in seconds.
    pub device_token_seconds: i64,
    /// Sessionless `verifyEmail` attempts per client IP per hour.
    pub verifications_per_ip_per_hour: i64,
    /// Argon2id memory cost, in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
    /// Password hashes computed at once. Default: the number of CPU cores.
    pub max_concurrent_hashes: Option<usize>,
    /// Hash requests allowed to wait for a free slot. Beyond this, sign-ins are shed at once
    /// with `RATE_LIMITED` and a retry hint instead of queueing into timeouts.
    pub hash_queue: usize,
    /// How long an email-verification or one-time code lives, in seconds.
    pub code_seconds: i64,
    /// Wrong guesses one code allows before it is spent.
    pub code_attempts: i64,
    /// Codes sent to one destination (email address or phone) per hour.
    pub codes_per_destination_per_hour: i64,
    /// How long a password-reset token lives, in seconds.
    pub reset_seconds: i64,
    /// Password-reset requests per account per hour.
    pub resets_per_account_per_hour: i64,
    /// Password-reset requests per client IP per hour.
    pub resets_per_ip_per_hour: i64,
    /// Registrations per client IP per hour.
    pub registrations_per_ip_per_hour: i64,
    /// How long an MFA challenge (between password and code) lives, in seconds.
    pub mfa_challenge_seconds: i64,
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// Key of the HMAC one-time codes are stored under. When unset, a random key is generated
    /// and kept in the auth database. Set it to share codes across databases.
    pub code_key: Option<SecretString>,
    /// Create this admin on start if no account has the email (`TESSERA_IDENTITY__BOOTSTRAP_ADMIN_EMAIL`).
    /// A one-time password is printed once; change it at first sign-in.
    pub bootstrap_admin_email: Option<String>,
    /// How often signing keys rotate, in seconds (0: only with `tessera keys rotate`).
    pub key_rotation_seconds: i64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            access_token_seconds: 15 * 60,
            session_idle_seconds: 3 * 24 * 3600,
            session_absolute_seconds: 7 * 24 * 3600,
            refresh_reuse_grace_seconds: 5,
            require_verified_email: false,
            lockout_threshold: 5,
            lockout_base_seconds: 15 * 60,
            lockout_max_seconds: 24 * 3600,
            mfa_lockout_threshold: 5,
            step_up_seconds: 5 * 60,
            device_token_seconds: 180 * 24 * 3600,
            verifications_per_ip_per_hour: 60,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            max_concurrent_hashes: None,
            hash_queue: 32,
            code_seconds: 10 * 60,
            code_attempts: 5,
            codes_per_destination_per_hour: 5,
            reset_seconds: 30 * 60,
            resets_per_account_per_hour: 3,
            resets_per_ip_per_hour: 20,
            registrations_per_ip_per_hour: 20,
            mfa_challenge_seconds: 5 * 60,
            totp_issuer: "Tessera".into(),
            code_key: None,
            bootstrap_admin_email: None,
            key_rotation_seconds: 0,
        }
    }
}

impl IdentityConfig {
    pub fn max_concurrent_hashes(&self) -> usize {
        self.max_concurrent_hashes
            .unwrap_or_else(|| std::thread::available_parallelism().map(usize::from).unwrap_or(2))
            .max(1)
    }
}
