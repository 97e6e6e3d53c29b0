//! Secrets at rest: TOTP secrets, the code HMAC key and the signing seeds are stored only
//! encrypted, under the auth subgraph's data key, itself stored only wrapped under the master
//! key (`master_key`, see `tessera_kit::seal`). A copy of the database alone yields none of
//! them. Each sealed value is bound to its row (account, key id, secret name), so values
//! swapped between rows do not open.
//!
//! Databases from before this carry the raw values. They are told apart by length (a sealed
//! value is longer than any raw one), read as they are, and sealed in place at start.

use tessera_kit::{Runtime, seal::Sealer};
use uuid::Uuid;

use crate::store;

/// The data key, opened under the master key (made and kept wrapped on first start).
pub async fn open(rt: &Runtime) -> anyhow::Result<Sealer> {
    let master = tessera_kit::seal::master_key(&rt.config).await?;
    let db = rt.db.clone();
    let vault = tessera_kit::seal::data_key(&master, |wrapped| async move {
        Ok(store::keys::server_secret(&db, "data_key", wrapped).await?)
    })
    .await?;
    seal_legacy(rt, &vault).await?;
    Ok(vault)
}

/// What a sealed value is bound to.
pub fn totp_context(account: Uuid) -> Vec<u8> {
    format!("totp:{account}").into_bytes()
}

pub fn seed_context(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

pub fn secret_context(name: &str) -> Vec<u8> {
    format!("server-secret:{name}").into_bytes()
}

/// A stored value opened: sealed, or (an older database) raw of `raw_len` bytes.
pub fn open_stored(vault: &Sealer, context: &[u8], stored: &[u8], raw_len: usize) -> anyhow::Result<Vec<u8>> {
    if stored.len() == raw_len {
        return Ok(stored.to_vec());
    }
    vault.open(context, stored)
}

/// A TOTP secret as it is stored.
pub fn seal_totp(vault: &Sealer, account: Uuid, secret: &[u8]) -> Vec<u8> {
    vault.seal(&totp_context(account), secret)
}

/// A stored TOTP secret, opened.
pub fn open_totp(vault: &Sealer, account: Uuid, stored: &[u8]) -> anyhow::Result<Vec<u8>> {
    open_stored(vault, &totp_context(account), stored, TOTP_LEN)
}

/// TOTP secrets are 20 bytes; seeds and keys 32.
pub const TOTP_LEN: usize = 20;
pub const KEY_LEN: usize = 32;

/// Seals, in place, whatever an older version stored raw.
async fn seal_legacy(rt: &Runtime, vault: &Sealer) -> anyhow::Result<()> {
    for (id, raw) in store::keys::raw_totp_secrets(&rt.db, TOTP_LEN).await? {
        store::keys::replace_totp_secret(&rt.db, id, &raw, &vault.seal(&totp_context(id), &raw)).await?;
    }
    for (kid, raw) in store::keys::raw_seeds(&rt.db, KEY_LEN).await? {
        store::keys::replace_seed(&rt.db, &kid, &raw, &vault.seal(&seed_context(&kid), &raw)).await?;
    }
    for (name, raw) in store::keys::raw_server_secrets(&rt.db, KEY_LEN).await? {
        store::keys::replace_server_secret(&rt.db, &name, &raw, &vault.seal(&secret_context(&name), &raw)).await?;
    }
    Ok(())
}
