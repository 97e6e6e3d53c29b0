//! The signing key ring. On first start a key is generated and stored; every key not yet past
//! its retirement window is published in the JWKS, so tokens keep verifying across a rotation.

use std::sync::{Arc, RwLock};

use tessera_kit::{
    db::Db,
    jwt::{Claims, SigningKey, jwks_document},
};

use crate::store;

#[derive(Clone)]
pub struct KeyRing {
    /// Newest first: the first key signs, all are published.
    keys: Arc<RwLock<Vec<SigningKey>>>,
}

impl KeyRing {
    /// Loads the stored keys, creating the first one if there is none.
    pub async fn load_or_create(db: &Db) -> anyhow::Result<Self> {
        let mut keys = store::signing_keys(db).await?;
        if keys.is_empty() {
            let key = SigningKey::generate();
            store::insert_signing_key(db, &key).await?;
            tracing::info!(kid = key.kid, "generated the first signing key");
            // Another replica may have raced us; whatever is stored now is the truth.
            keys = store::signing_keys(db).await?;
        }
        Ok(Self { keys: Arc::new(RwLock::new(keys)) })
    }

    /// Signs claims with the current key.
    pub fn sign(&self, claims: &Claims) -> String {
        self.keys.read().expect("key ring lock poisoned")[0].sign(claims)
    }

    /// The current signing key (tests forge tokens next to it).
    pub fn current(&self) -> SigningKey {
        self.keys.read().expect("key ring lock poisoned")[0].clone()
    }

    /// The ids of the published keys, newest first.
    pub fn kids(&self) -> Vec<String> {
        self.keys.read().expect("key ring lock poisoned").iter().map(|k| k.kid.clone()).collect()
    }

    pub fn jwks(&self) -> serde_json::Value {
        jwks_document(&self.keys.read().expect("key ring lock poisoned"))
    }
}
