//! Ed25519 signing keys and the JWKS document that publishes their public halves.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::Claims;

/// A private signing key. Its `Debug` output shows the `kid` only.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    seed: [u8; 32],
    encoding: EncodingKey,
    public: [u8; 32],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key from the operating system's random source, with a random `kid`.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS random source is available");
        Self::from_seed(uuid::Uuid::now_v7().to_string(), seed)
    }

    /// Rebuilds a stored key.
    pub fn from_seed(kid: String, seed: [u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let der = key.to_pkcs8_der().expect("an Ed25519 key encodes as PKCS#8");
        Self { kid, seed, encoding: EncodingKey::from_ed_der(der.as_bytes()), public: key.verifying_key().to_bytes() }
    }

    /// The secret seed, for the auth subgraph's key store. Never log it.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("Ed25519 signing does not fail")
    }

    /// The public JWK (RFC 8037 OKP key).
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.public),
        })
    }

    /// The raw public key (tests use it to forge HS256 tokens with it as the secret).
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }
}

/// `{"keys": [...]}` for `/.well-known/jwks.json`.
pub fn jwks_document(keys: &[SigningKey]) -> serde_json::Value {
    serde_json::json!({ "keys": keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>() })
}
