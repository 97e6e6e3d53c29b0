//! Secrets as the auth subgraph handles them: random tokens and codes, and the only forms in
//! which they are stored (SHA-256 for 256-bit tokens, a keyed HMAC for 6-digit codes, whose
//! small space a plain hash would not protect). Comparisons run in constant time.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

/// A 256-bit random token (refresh tokens, reset tokens, MFA challenges), URL-safe base64.
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(random::<32>())
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A uniformly random six-digit code (rejection sampling: no modulo bias).
pub fn six_digits() -> String {
    loop {
        let n = u32::from_le_bytes(random::<4>());
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// A recovery code: 10 characters from an alphabet without look-alikes, shown as `xxxxx-xxxxx`.
pub fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(11);
    let mut i = 0;
    while i < 10 {
        let b = random::<1>()[0];
        // 248 = 8 * 31: reject the tail so each letter is equally likely.
        if b < 248 {
            if i == 5 {
                out.push('-');
            }
            out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
            i += 1;
        }
    }
    out
}

/// The server's key for code HMACs.
#[derive(Clone)]
pub struct CodeKey(std::sync::Arc<secrecy::SecretBox<[u8; 32]>>);

impl CodeKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(std::sync::Arc::new(secrecy::SecretBox::new(Box::new(bytes))))
    }

    pub fn generate() -> Self {
        Self::new(random::<32>())
    }

    /// A configured key: any string, stretched to 32 bytes.
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self::new(Sha256::digest(passphrase.as_bytes()).into())
    }

    pub fn bytes(&self) -> [u8; 32] {
        *secrecy::ExposeSecret::expose_secret(&*self.0)
    }

    /// The stored form of a short code, bound to what it is for so a code for one purpose is
    /// worthless for another.
    pub fn code_hash(&self, context: &str, code: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secrecy::ExposeSecret::expose_secret(&*self.0))
            .expect("any key length works");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Constant-time equality of two stored hashes.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_tokens_carry_256_bits() {
        for _ in 0..100 {
            let c = six_digits();
            assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        assert_eq!(URL_SAFE_NO_PAD.decode(token()).expect("base64").len(), 32);
        assert_ne!(token(), token());
    }

    #[test]
    fn a_code_hash_depends_on_the_key_and_the_purpose() {
        let (a, b) = (CodeKey::generate(), CodeKey::generate());
        assert_ne!(a.code_hash("x", "123456"), b.code_hash("x", "123456"));
        assert_ne!(a.code_hash("x", "123456"), a.code_hash("y", "123456"));
        assert!(same(&a.code_hash("x", "123456"), &a.code_hash("x", "123456")));
    }

    #[test]
    fn recovery_codes_look_like_two_groups_of_five() {
        let c = recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(&c[5..6], "-");
    }
}
