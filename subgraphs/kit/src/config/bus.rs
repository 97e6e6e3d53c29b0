//! The event bus's own settings.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Key the secret fields of events (codes, reset tokens) are sealed under before they enter
    /// an outbox, so the outbox, the Redis stream and every log hold only ciphertext
    /// (`TESSERA_BUS__SEAL_KEY`; any length, it is hashed). Every process must share it. Unset:
    /// a random key is made and kept in `<data_dir>/bus-seal.key`, which serves one machine
    /// (`tessera dev`); with Redis in the production profile it must be set.
    pub seal_key: Option<SecretString>,
}
