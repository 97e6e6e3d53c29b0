//! The services that call other subgraphs directly, and the secrets they prove themselves with
//! (OAuth 2.0 client credentials at the auth subgraph).

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesConfig {
    /// The orders subgraph, which reserves stock in products.
    pub orders: ServiceClientConfig,
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
