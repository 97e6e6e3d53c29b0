//! Sealing of the messages waiting to be sent. A verification code or a reset link has to survive
//! a restart between the event and a successful send, yet must never rest in clear: the pending
//! message is kept encrypted (AES-256-GCM, from ring, already in the tree for TLS) and the
//! ciphertext is dropped once the message is sent or dead-lettered.

use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use sha2::{Digest, Sha256};
use tessera_kit::{db::Db, on_db};

#[derive(Clone)]
pub struct Sealer {
    key: std::sync::Arc<LessSafeKey>,
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte key fits AES-256");
        Self { key: std::sync::Arc::new(LessSafeKey::new(unbound)) }
    }

    /// A key from configuration: any passphrase, stretched to 32 bytes by SHA-256 (it is a
    /// machine secret, not a person's password, so a slow hash buys nothing).
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self::new(Sha256::digest(passphrase.as_bytes()).into())
    }

    /// The configured key, else the one kept in the database (made on first start).
    pub async fn open(db: &Db, configured: Option<&secrecy::SecretString>) -> anyhow::Result<Self> {
        if let Some(key) = configured {
            return Ok(Self::from_passphrase(secrecy::ExposeSecret::expose_secret(key)));
        }
        let mut fresh = [0u8; 32];
        SystemRandom::new().fill(&mut fresh).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        // Two replicas starting at once both try to insert; the first wins and both read it back.
        on_db!(db, |pool| sqlx::query("INSERT INTO seal_keys (id, key_bytes) VALUES (1, $1) ON CONFLICT DO NOTHING")
            .bind(fresh.to_vec())
            .execute(pool)
            .await
            .map(|_| ()))?;
        let stored: Vec<u8> = on_db!(db, |pool| sqlx::query_scalar("SELECT key_bytes FROM seal_keys WHERE id = 1")
            .fetch_one(pool)
            .await)?;
        Ok(Self::new(stored.try_into().map_err(|_| anyhow::anyhow!("the stored seal key is not 32 bytes"))?))
    }

    /// Nonce, then ciphertext and tag. `context` (the delivery id) is authenticated, so a sealed
    /// message moved to another row does not open.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).expect("system randomness");
        let mut out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut out)
            .expect("sealing a message in memory cannot fail");
        [nonce.as_slice(), &out].concat()
    }

    pub fn open_sealed(&self, context: &[u8], sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(sealed.len() > NONCE_LEN, "the sealed message is truncated");
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| anyhow::anyhow!("the sealed message does not open under this key"))?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_message_opens_only_with_its_key_and_its_context() {
        let sealer = Sealer::from_passphrase("one");
        let sealed = sealer.seal(b"delivery-1", b"your code is 123456");
        assert!(!sealed.windows(6).any(|w| w == b"123456"), "the code is not readable in the sealed bytes");
        assert_eq!(sealer.open_sealed(b"delivery-1", &sealed).expect("opens"), b"your code is 123456");
        assert!(sealer.open_sealed(b"delivery-2", &sealed).is_err(), "another row's context");
        assert!(Sealer::from_passphrase("two").open_sealed(b"delivery-1", &sealed).is_err(), "another key");
    }
}
