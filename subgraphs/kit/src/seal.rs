//! Sealing: authenticated encryption (AES-256-GCM, from ring, already in the tree for TLS) of
//! secrets that must travel or wait but never rest in clear: the codes and reset tokens inside
//! bus events, and the notifications subgraph's pending messages. Each sealed value is bound to
//! a context (an event id and field, a delivery id), so a sealed value moved elsewhere does not
//! open.
//!
//! Keys come from configuration, or are made once and kept ([`kept_key`]): one rule, written
//! here, for every "configured key, else a generated one" in Tessera.

use std::{future::Future, path::Path};

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The prefix of a sealed value in text form: a reader can tell a sealed field from a clear one.
pub const SEALED_PREFIX: &str = "sealed:v1:";

#[derive(Clone)]
pub struct Sealer {
    key: std::sync::Arc<LessSafeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte key fits AES-256");
        Self { key: std::sync::Arc::new(LessSafeKey::new(unbound)) }
    }

    /// A key from configuration: any passphrase, stretched to 32 bytes by SHA-256 (it is a
    /// machine secret, not a person's password, so a slow hash buys nothing).
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self::new(passphrase_key(passphrase))
    }

    /// Nonce, then ciphertext and tag. `context` is authenticated, not encrypted.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).expect("system randomness");
        let mut out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut out)
            .expect("sealing in memory cannot fail");
        [nonce.as_slice(), &out].concat()
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(sealed.len() > NONCE_LEN, "the sealed value is truncated");
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| anyhow::anyhow!("the sealed value does not open under this key and context"))?;
        Ok(plain.to_vec())
    }

    /// [`Sealer::seal`] as text (`sealed:v1:` + base64), for JSON fields.
    pub fn seal_text(&self, context: &[u8], plain: &str) -> String {
        format!("{SEALED_PREFIX}{}", STANDARD_NO_PAD.encode(self.seal(context, plain.as_bytes())))
    }

    pub fn open_text(&self, context: &[u8], sealed: &str) -> anyhow::Result<String> {
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(|| anyhow::anyhow!("the value is not sealed"))?;
        let bytes = STANDARD_NO_PAD.decode(body)?;
        Ok(String::from_utf8(self.open(context, &bytes)?)?)
    }
}

pub fn passphrase_key(passphrase: &str) -> [u8; 32] {
    Sha256::digest(passphrase.as_bytes()).into()
}

fn fresh_key() -> anyhow::Result<[u8; 32]> {
    let mut fresh = [0u8; 32];
    SystemRandom::new().fill(&mut fresh).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    Ok(fresh)
}

/// The configured key, else one made on first use and kept by `keep`. `keep` is given a fresh
/// key and returns the kept one: its own if it stored it, a racing replica's if that won.
pub async fn kept_key<F, Fut>(configured: Option<&SecretString>, keep: F) -> anyhow::Result<[u8; 32]>
where
    F: FnOnce([u8; 32]) -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<u8>>>,
{
    if let Some(key) = configured {
        return Ok(passphrase_key(key.expose_secret()));
    }
    let kept = keep(fresh_key()?).await?;
    kept.try_into().map_err(|_| anyhow::anyhow!("the kept key is not 32 bytes"))
}

/// [`kept_key`] in a file (the bus key of `tessera dev`, which every subgraph of the process
/// shares through the data directory). Created with mode 0600, never overwritten.
pub async fn key_in_file(configured: Option<&SecretString>, path: &Path) -> anyhow::Result<[u8; 32]> {
    let path = path.to_path_buf();
    kept_key(configured, |fresh| async move {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => std::io::Write::write_all(&mut file, STANDARD_NO_PAD.encode(fresh).as_bytes())?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
        }
        let text = std::fs::read_to_string(&path)?;
        Ok(STANDARD_NO_PAD.decode(text.trim())?)
    })
    .await
}

/// The master key: configured (`master_key`), else kept in `<data_dir>/master.key`.
pub async fn master_key(config: &crate::config::Config) -> anyhow::Result<Sealer> {
    let key = key_in_file(config.master_key.as_ref(), &config.data_dir.join("master.key")).await?;
    Ok(Sealer::new(key))
}

const DATA_KEY: &[u8] = b"data-key";

/// Envelope encryption: a random data key that is only ever stored wrapped under `master`.
/// `keep` is given a freshly wrapped key and returns the stored one (its own, or one kept
/// before). Changing the master key means re-wrapping this one key, not every secret.
pub async fn data_key<F, Fut>(master: &Sealer, keep: F) -> anyhow::Result<Sealer>
where
    F: FnOnce(Vec<u8>) -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<u8>>>,
{
    let wrapped = keep(master.seal(DATA_KEY, &fresh_key()?)).await?;
    let key = master.open(DATA_KEY, &wrapped).map_err(|_| {
        anyhow::anyhow!(
            "the stored data key does not open under this master key: is `master_key` the one it was made with?"
        )
    })?;
    Ok(Sealer::new(key.try_into().map_err(|_| anyhow::anyhow!("the data key is not 32 bytes"))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_its_context() {
        let sealer = Sealer::from_passphrase("one");
        let sealed = sealer.seal_text(b"event-1:token", "your code is 123456");
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("123456"), "{sealed}");
        assert_eq!(sealer.open_text(b"event-1:token", &sealed).expect("opens"), "your code is 123456");
        assert!(sealer.open_text(b"event-2:token", &sealed).is_err(), "another context");
        assert!(Sealer::from_passphrase("two").open_text(b"event-1:token", &sealed).is_err(), "another key");
        assert!(sealer.open_text(b"event-1:token", "123456").is_err(), "a clear value is not taken as sealed");
    }

    #[tokio::test]
    async fn a_key_file_is_made_once_and_read_back_by_everyone_after() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("keys/bus.key");
        let first = key_in_file(None, &path).await.expect("made");
        assert_eq!(key_in_file(None, &path).await.expect("read"), first, "kept, not remade");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("exists").permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner reads it: {mode:o}");
        }
        let configured = SecretString::from("passphrase");
        assert_ne!(key_in_file(None, &dir.path().join("other.key")).await.expect("made"), first, "random");
        assert_eq!(key_in_file(Some(&configured), &path).await.expect("configured"), passphrase_key("passphrase"));
    }
}

#[cfg(test)]
mod envelope {
    use super::*;

    #[tokio::test]
    async fn a_data_key_is_kept_wrapped_and_opens_only_under_its_master_key() {
        let kept = std::sync::Mutex::new(None::<Vec<u8>>);
        let keep = |fresh: Vec<u8>| {
            let mut slot = kept.lock().expect("lock");
            let stored = slot.get_or_insert(fresh).clone();
            async move { Ok(stored) }
        };
        let master = Sealer::from_passphrase("master");
        let data = data_key(&master, keep).await.expect("made");
        let sealed = data.seal(b"totp:1", b"secret");
        let again = data_key(&master, keep).await.expect("kept");
        assert_eq!(again.open(b"totp:1", &sealed).expect("the same data key"), b"secret");
        let wrapped = kept.lock().expect("lock").clone().expect("stored");
        assert!(wrapped.len() > 32, "only the wrapped form is stored");
        assert!(data_key(&Sealer::from_passphrase("another"), keep).await.is_err(), "another master key");
    }
}
