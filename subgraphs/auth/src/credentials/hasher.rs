//! Password hashing: argon2id on blocking threads, never on the async runtime, with a cap on
//! hashes at once and on hashes waiting. When both are full a sign-in is shed at once
//! ([`Busy`]), so a login flood cannot queue into timeouts or starve cheap queries.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// Callers admitted: hashing or waiting for a slot.
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    /// A hash of a random password, verified against when the identifier is unknown, so an
    /// unknown identifier costs as much time as a wrong password.
    dummy: Arc<String>,
}

/// Every slot and queue place is taken: try again shortly.
#[derive(Debug)]
pub struct Busy;

/// A place in line; hold it across the hash.
pub struct Admission {
    admitted: Arc<AtomicUsize>,
    slots: Arc<Semaphore>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a verification found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    Right,
    /// Right, but hashed with other parameters than the current ones: store a new hash.
    RightButRehash,
}

impl Hasher {
    pub fn new(memory_kib: u32, iterations: u32, concurrent: usize, queue: usize) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy = argon
            .hash_password(crate::domain::secret::token().as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))?
            .to_string();
        Ok(Self {
            params,
            slots: Arc::new(Semaphore::new(concurrent)),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: concurrent + queue,
            dummy: Arc::new(dummy),
        })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Takes a place in line, or says [`Busy`] without waiting.
    pub fn admit(&self) -> Result<Admission, Busy> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission { admitted: self.admitted.clone(), slots: self.slots.clone() };
        if before >= self.capacity { Err(Busy) } else { Ok(admission) }
    }

    async fn slot(admission: &Admission) -> OwnedSemaphorePermit {
        admission.slots.clone().acquire_owned().await.expect("the hash semaphore is never closed")
    }

    /// Hashes a (normalized) password into a PHC string.
    pub async fn hash(&self, admission: &Admission, password: String) -> anyhow::Result<String> {
        let permit = Self::slot(admission).await;
        let argon = self.argon();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            argon.hash_password(password.as_bytes()).map(|h| h.to_string())
        })
        .await?
        .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))
    }

    /// Checks a password against a stored hash; `None` verifies against the dummy hash and is
    /// always [`Verdict::Wrong`], after the same work.
    pub async fn verify(&self, admission: &Admission, password: String, stored: Option<String>) -> Verdict {
        let permit = Self::slot(admission).await;
        let known = stored.as_deref().is_some_and(|s| !s.is_empty());
        let stored = stored.filter(|s| !s.is_empty()).unwrap_or_else(|| self.dummy.as_str().to_owned());
        let current = self.params.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let Ok(parsed) = PasswordHash::new(&stored) else { return Verdict::Wrong };
            if Argon2::default().verify_password(password.as_bytes(), &parsed).is_err() {
                return Verdict::Wrong;
            }
            let same = Params::try_from(&parsed).is_ok_and(|p| {
                p.m_cost() == current.m_cost() && p.t_cost() == current.t_cost() && p.p_cost() == current.p_cost()
            }) && parsed.algorithm == Algorithm::Argon2id.ident();
            if same { Verdict::Right } else { Verdict::RightButRehash }
        })
        .await
        .unwrap_or(Verdict::Wrong);
        if known { verdict } else { Verdict::Wrong }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = Hasher::new(1024, 1, 2, 2).expect("valid parameters");
        let a = h.admit().expect("room");
        let stored = h.hash(&a, "correct horse battery".into()).await.expect("hashes");
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(h.verify(&a, "correct horse battery".into(), Some(stored.clone())).await, Verdict::Right);
        assert_eq!(h.verify(&a, "wrong horse battery".into(), Some(stored)).await, Verdict::Wrong);
        assert_eq!(h.verify(&a, "anything".into(), None).await, Verdict::Wrong);
    }

    #[tokio::test]
    async fn a_hash_made_with_older_parameters_asks_for_a_rehash() {
        let old = Hasher::new(1024, 1, 1, 1).expect("valid");
        let a = old.admit().expect("room");
        let stored = old.hash(&a, "correct horse battery".into()).await.expect("hashes");
        let new = Hasher::new(2048, 2, 1, 1).expect("valid");
        let b = new.admit().expect("room");
        assert_eq!(new.verify(&b, "correct horse battery".into(), Some(stored)).await, Verdict::RightButRehash);
    }

    #[test]
    fn callers_beyond_the_slots_and_the_queue_are_turned_away_at_once() {
        let h = Hasher::new(1024, 1, 1, 1).expect("valid");
        let first = h.admit().expect("a slot");
        let _second = h.admit().expect("a queue place");
        assert!(h.admit().is_err(), "full");
        drop(first);
        assert!(h.admit().is_ok(), "a place freed");
    }
}
