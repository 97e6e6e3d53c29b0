//! The catalogue's own settings.

use serde::Deserialize;

/// The products subgraph's catalogue and stock reservations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogueConfig {
    /// How long a stock reservation holds its units when it is neither committed nor released
    /// (an order service that crashed mid-checkout), in seconds. Then a sweep releases it.
    pub reservation_ttl_seconds: u64,
    /// Load a small demo catalogue into an empty database on start, so GraphiQL and the example
    /// shop have something to show. Off in the production profile.
    pub demo_catalogue: bool,
}

impl Default for CatalogueConfig {
    fn default() -> Self {
        Self { reservation_ttl_seconds: 15 * 60, demo_catalogue: true }
    }
}
