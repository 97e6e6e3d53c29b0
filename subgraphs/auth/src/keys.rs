//! The signing key ring. On first start a key is generated and stored. Rotation adds a key that
//! signs from then on and retires the others; a retired key stays published in the JWKS until
//! every token it signed has expired, then it is deleted.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use tessera_kit::{
    Runtime,
    db::Db,
    jwt::{Claims, SigningKey, jwks_document},
    seal::Sealer,
};

use crate::{
    store::keys::{self as store, StoredKey},
    vault,
};

/// Slack on top of the token lifetime before a retired key goes: clock skew and leeway.
const RETIRED_SLACK_SECONDS: i64 = 120;

#[derive(Clone)]
pub struct KeyRing {
    /// Newest first: the first key signs, all are published.
    keys: Arc<RwLock<Vec<SigningKey>>>,
    token_seconds: i64,
    /// Seeds rest sealed under the data key (see `vault`).
    vault: Sealer,
}

impl KeyRing {
    /// Loads the stored keys, creating the first one if there is none.
    pub async fn load_or_create(db: &Db, vault: &Sealer, token_seconds: i64) -> anyhow::Result<Self> {
        let ring = Self { keys: Arc::default(), token_seconds, vault: vault.clone() };
        ring.reload(db).await?;
        if ring.kids().is_empty() {
            let key = SigningKey::generate();
            ring.insert(db, &key).await?;
            tracing::info!(kid = key.kid, "generated the first signing key");
            // Another replica may have raced us; whatever is stored now is the truth.
            ring.reload(db).await?;
        }
        Ok(ring)
    }

    /// The auth subgraph's ring, as its runtime opens it (tests sign tokens with it).
    pub async fn open(rt: &Runtime) -> anyhow::Result<Self> {
        Self::load_or_create(&rt.db, &vault::open(rt).await?, rt.config.identity.access_token_seconds).await
    }

    async fn insert(&self, db: &Db, key: &SigningKey) -> anyhow::Result<()> {
        let sealed = self.vault.seal(&vault::seed_context(&key.kid), key.seed().as_slice());
        Ok(store::insert_signing_key(db, &key.kid, &sealed).await?)
    }

    fn unseal(&self, stored: &StoredKey) -> anyhow::Result<SigningKey> {
        let seed = vault::open_stored(&self.vault, &vault::seed_context(&stored.kid), &stored.seed, vault::KEY_LEN)?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| anyhow::anyhow!("a signing seed is not 32 bytes"))?;
        Ok(SigningKey::from_seed(stored.kid.clone(), seed))
    }

    /// Re-reads the stored keys (another replica may have rotated) and deletes expired ones.
    pub async fn reload(&self, db: &Db) -> anyhow::Result<()> {
        let now = Utc::now();
        let mut live = Vec::new();
        for stored in store::signing_keys(db).await? {
            match stored.retired_at {
                Some(at) if (now - at).num_seconds() > self.token_seconds + RETIRED_SLACK_SECONDS => {
                    store::delete_signing_key(db, &stored.kid).await?;
                    tracing::info!(kid = stored.kid, "deleted a signing key whose tokens have all expired");
                }
                // Unretired keys first (newest signs), then retired ones, still published.
                retired => live.push((retired.is_some(), self.unseal(&stored)?)),
            }
        }
        live.sort_by_key(|(retired, _)| *retired);
        if !live.is_empty() {
            *self.keys.write().expect("key ring lock poisoned") = live.into_iter().map(|(_, k)| k).collect();
        }
        Ok(())
    }

    /// Adds a new signing key and retires the older ones. Returns the new key's id. Two
    /// replicas rotating at once each retire only keys older than their own, so the newest of
    /// the two signs and neither is left without a key.
    pub async fn rotate(&self, db: &Db) -> anyhow::Result<String> {
        let key = SigningKey::generate();
        self.insert(db, &key).await?;
        let stored = store::signing_keys(db).await?;
        let created = stored.iter().find(|k| k.kid == key.kid).map(|k| k.created_at);
        for old in stored.iter().filter(|k| k.retired_at.is_none() && Some(k.created_at) < created) {
            store::retire(db, &old.kid).await?;
        }
        self.reload(db).await?;
        tracing::info!(kid = key.kid, "rotated the signing key");
        Ok(key.kid)
    }

    /// Signs claims with the current key.
    pub fn sign(&self, claims: &Claims) -> String {
        self.keys.read().expect("key ring lock poisoned")[0].sign(claims)
    }

    /// The current signing key (tests forge tokens next to it).
    pub fn current(&self) -> SigningKey {
        self.keys.read().expect("key ring lock poisoned")[0].clone()
    }

    /// The ids of the published keys, the signing one first.
    pub fn kids(&self) -> Vec<String> {
        self.keys.read().expect("key ring lock poisoned").iter().map(|k| k.kid.clone()).collect()
    }

    pub fn jwks(&self) -> serde_json::Value {
        jwks_document(&self.keys.read().expect("key ring lock poisoned"))
    }
}

/// Every minute: rotate if the schedule says so, and pick up other replicas' rotations.
pub fn spawn_maintenance(state: &crate::State) {
    let (ring, db, stop) = (state.keys.clone(), state.rt.db.clone(), state.rt.stop.clone());
    let every = state.policy().key_rotation_seconds;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => return,
            }
            if let Err(e) = maintain(&ring, &db, every).await {
                tracing::warn!(error = format!("{e:#}"), "signing key maintenance failed; will retry");
            }
        }
    });
}

async fn maintain(ring: &KeyRing, db: &Db, every: i64) -> anyhow::Result<()> {
    ring.reload(db).await?;
    if every > 0 {
        let newest = store::signing_keys(db).await?.into_iter().find(|k| k.retired_at.is_none());
        if newest.is_none_or(|k| (Utc::now() - k.created_at).num_seconds() >= every) {
            ring.rotate(db).await?;
        }
    }
    Ok(())
}
