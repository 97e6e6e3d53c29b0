//! The services that call other subgraphs directly, and the secrets they prove themselves with
//! (OAuth 2.0 client credentials at the auth subgraph).

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesConfig {
    /// The orders subgraph, which reserves stock in products.
    pub orders: ServiceClientConfig,
    /// How one service calls another: timeouts, retries and the circuit breaker.
    pub calls: CallConfig,
}

impl ServicesConfig {
    pub fn client(&self, name: &str) -> Option<&ServiceClientConfig> {
        match name {
            "orders" => Some(&self.orders),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceClientConfig {
    /// The secret this service presents (`TESSERA_SERVICES__ORDERS__SECRET`), set where the
    /// service runs. Unset: one is made and kept in `<data_dir>/service-<name>.secret`, which
    /// serves one machine (`tessera dev`).
    pub secret: Option<SecretString>,
    /// The SHA-256 (hex) of that secret, set where the auth subgraph runs: it never holds the
    /// secret itself. Unset: computed from `secret` (or the kept file) at start.
    pub secret_sha256: Option<String>,
}

/// How a service calls another (the kit's `ServiceClient`). Only idempotent calls go through
/// it, so a retry after a timeout is always safe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallConfig {
    /// Longest wait for one attempt, in milliseconds.
    pub attempt_timeout_ms: u64,
    /// Longest a call may take, retries and their waits included, in milliseconds.
    pub deadline_ms: u64,
    /// The first retry waits up to this long, in milliseconds; each next one up to twice as
    /// long (jittered), never more than a quarter of the deadline.
    pub retry_backoff_ms: u64,
    /// Consecutive failed attempts after which the breaker opens and calls fail at once.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before it lets one probe through, in ms.
    pub breaker_open_ms: u64,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            attempt_timeout_ms: 2_000,
            deadline_ms: 5_000,
            retry_backoff_ms: 50,
            breaker_failures: 5,
            breaker_open_ms: 5_000,
        }
    }
}
