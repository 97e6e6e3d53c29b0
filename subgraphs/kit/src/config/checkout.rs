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
    /// Most new orders one customer may place in an hour (replays of an idempotency key do not
    /// count): every order, even a refused one, costs a reservation call and rows kept for good.
    pub orders_per_user_per_hour: u32,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self { pending_grace_seconds: 60, sweep_interval_seconds: 10, orders_per_user_per_hour: 60 }
    }
}
