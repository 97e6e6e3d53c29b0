//! Services calling services (DESIGN.md): which services may ask the auth subgraph for a token,
//! what each may call, and the secret each proves itself with. Both sides live here: the
//! service reads its secret, the auth subgraph keeps only its digest.

use std::path::Path;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// Each service that may use the client-credentials grant, and the subgraphs its tokens may be
/// for. A token's scope is `service:<name>`.
pub const CLIENTS: &[(&str, &[&str])] = &[("orders", &["products"])];

/// The subgraphs `client`'s tokens may be for (`None`: not a known client).
pub fn audiences(client: &str) -> Option<&'static [&'static str]> {
    CLIENTS.iter().find(|(name, _)| *name == client).map(|(_, targets)| *targets)
}

/// The scope a service's token carries.
pub fn scope(client: &str) -> String {
    format!("service:{client}")
}

/// The secret `client` presents: configured, else made once and kept in the data directory.
pub fn client_secret(config: &Config, client: &str) -> anyhow::Result<SecretString> {
    if let Some(secret) = config.services.client(client).and_then(|c| c.secret.clone()) {
        return Ok(secret);
    }
    kept_secret(&config.data_dir.join(format!("service-{client}.secret")))
}

/// The digest the auth subgraph checks `client`'s secret against.
pub fn secret_digest(config: &Config, client: &str) -> anyhow::Result<[u8; 32]> {
    let configured = config.services.client(client).and_then(|c| c.secret_sha256.as_deref());
    match configured {
        Some(hex) => parse_hex(hex.trim())
            .ok_or_else(|| anyhow::anyhow!("`services.{client}.secret_sha256` must be 64 hexadecimal digits")),
        None => Ok(digest(client_secret(config, client)?.expose_secret())),
    }
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// 256 random bits in a file created with mode 0600 and never overwritten, so every process
/// sharing the data directory reads the same secret.
fn kept_secret(path: &Path) -> anyhow::Result<SecretString> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => std::io::Write::write_all(&mut file, URL_SAFE_NO_PAD.encode(fresh).as_bytes())?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
    Ok(SecretString::from(std::fs::read_to_string(path)?.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_secret_is_made_once_and_its_digest_matches_a_configured_one() {
        let dir = tempfile::tempdir().expect("a directory");
        let config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        let first = client_secret(&config, "orders").expect("made");
        let again = client_secret(&config, "orders").expect("kept");
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_eq!(first.expose_secret().len(), 43, "256 bits in base64url");

        let hex: String = digest("s3cret").iter().map(|b| format!("{b:02x}")).collect();
        let mut configured = config.clone();
        configured.services.orders.secret_sha256 = Some(hex);
        assert_eq!(secret_digest(&configured, "orders").expect("parses"), digest("s3cret"));
        configured.services.orders.secret_sha256 = Some("nope".into());
        assert!(secret_digest(&configured, "orders").is_err());
    }
}
