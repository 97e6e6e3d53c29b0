//! Checkout's own settings (the orders subgraph).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckoutConfig {
    /// How long an order may stay `PENDING` before the recovery sweep rejects it and gives its
    /// reservation back, in seconds. Keep it well above `services.calls.deadline_ms`, so the
    /// sweep only finds checkouts that stopped (a crash), not slow ones.
    pub pending_grace_seconds: u64,
    /// How often the recovery sweep runs (it also runs at start-up), in seconds.
    pub sweep_interval_seconds: u64,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self { pending_grace_seconds: 60, sweep_interval_seconds: 10 }
    }
}
