//! How long stored rows live once they have served their purpose (the retention sweeps).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// How often each subgraph sweeps, in seconds (0 turns the sweeps off).
    pub interval_seconds: u64,
    /// Rows deleted per statement: each batch is one short transaction, so a sweep never holds
    /// a table for long.
    pub batch_size: u32,
    /// Batches per table per sweep, at most; what is left waits for the next sweep.
    pub max_batches: u32,
    /// Published outbox events, kept this many days after publication (for diagnosis).
    pub outbox_days: u32,
    /// Handled event ids (the inbox). An event redelivered within this window is recognised and
    /// skipped, so it must outlive any redelivery: unacked events are taken over within a
    /// minute, and a consumer down for longer only receives them once it is back.
    pub inbox_days: u32,
    /// Ended sessions (expired or revoked) and their refresh tokens, kept this long after the end.
    /// While a session lives its rotated refresh tokens stay, for reuse detection.
    pub sessions_days: u32,
    /// Expired one-time codes, reset tokens, MFA challenges and trusted devices, and spent
    /// throttle windows.
    pub codes_days: u32,
    /// The audit trail (security events).
    pub audit_days: u32,
    /// Sent and dead-lettered deliveries (the delivery log); pending ones are never swept.
    pub delivery_log_days: u32,
    /// Files of the development mail sink (`<data_dir>/mail/*.eml`).
    pub dev_sink_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            interval_seconds: 3600,
            batch_size: 500,
            max_batches: 20,
            outbox_days: 7,
            inbox_days: 14,
            sessions_days: 30,
            codes_days: 1,
            audit_days: 365,
            delivery_log_days: 30,
            dev_sink_days: 7,
        }
    }
}
