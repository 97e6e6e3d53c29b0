//! argon2id over memory the caller keeps. The library's `hash_password`/`verify_password`
//! allocate and zero the whole memory (19 MiB by default) on every call; a hashing thread that
//! reuses one buffer skips that work and the page faults behind it. The buffer holds values
//! derived from passwords, so it is wiped before it is given back.

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// What a verification found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    Right,
    /// Right, but hashed with other parameters than the current ones: store a new hash.
    RightButRehash,
}

/// A hashing thread's working memory, grown to the largest parameters it has met.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.0.len() < needed {
            self.release();
            self.0 = vec![Block::default(); needed];
        }
        &mut self.0[..needed]
    }

    /// Wipes and frees the buffer (an idle thread gives its memory back).
    pub fn release(&mut self) {
        self.0.zeroize();
        self.0 = Vec::new();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Hashes a password with `params` and a fresh random salt into a PHC string.
pub fn hash(params: &Params, memory: &mut Memory, password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(password, &salt, &mut out, memory.blocks(params))
        .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    out.zeroize();
    Ok(phc.to_string())
}

/// Checks a password against a stored PHC string, with the parameters written in it; a hash
/// that is not argon2id with `current`'s cost asks for a rehash. The comparison takes the same
/// time wherever the outputs differ.
pub fn verify(current: &Params, memory: &mut Memory, password: &[u8], stored: &str) -> Verdict {
    let Ok(phc) = PasswordHash::new(stored) else { return Verdict::Wrong };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return Verdict::Wrong };
    let Ok(algorithm) = Algorithm::new(phc.algorithm.as_str()) else { return Verdict::Wrong };
    let Ok(version) = phc.version.map_or(Ok(Version::default()), Version::try_from) else { return Verdict::Wrong };
    let Ok(params) = Params::try_from(&phc) else { return Verdict::Wrong };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else { return Verdict::Wrong };
    let argon = Argon2::new(algorithm, version, params.clone());
    if argon.hash_password_into_with_memory(password, salt.as_ref(), out, memory.blocks(&params)).is_err() {
        return Verdict::Wrong;
    }
    let right: bool = out.ct_eq(expected.as_bytes()).into();
    out.zeroize();
    if !right {
        return Verdict::Wrong;
    }
    let same = algorithm == Algorithm::Argon2id
        && params.m_cost() == current.m_cost()
        && params.t_cost() == current.t_cost()
        && params.p_cost() == current.p_cost();
    if same { Verdict::Right } else { Verdict::RightButRehash }
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn params(m: u32, t: u32) -> Params {
        Params::new(m, t, 1, None).expect("valid parameters")
    }

    #[test]
    fn a_hash_made_over_kept_memory_verifies_with_the_library_and_the_other_way_round() {
        let p = params(1024, 2);
        let mut memory = Memory::default();
        let ours = hash(&p, &mut memory, b"correct horse").expect("hashes");
        let library = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.clone());
        assert!(library.verify_password(b"correct horse", &PasswordHash::new(&ours).expect("parses")).is_ok());
        assert!(library.verify_password(b"correct horsf", &PasswordHash::new(&ours).expect("parses")).is_err());

        let theirs = library.hash_password(b"battery staple").expect("hashes").to_string();
        assert_eq!(verify(&p, &mut memory, b"battery staple", &theirs), Verdict::Right);
        assert_eq!(verify(&p, &mut memory, b"battery stapler", &theirs), Verdict::Wrong);
        assert_eq!(verify(&p, &mut memory, b"correct horse", &ours), Verdict::Right);
    }

    #[test]
    fn memory_left_by_another_password_changes_nothing() {
        let p = params(1024, 1);
        let mut memory = Memory::default();
        let stored = hash(&p, &mut memory, b"first").expect("hashes");
        let _ = hash(&p, &mut memory, b"something else entirely").expect("hashes");
        assert_eq!(verify(&p, &mut memory, b"first", &stored), Verdict::Right);
    }

    #[test]
    fn a_hash_with_more_memory_than_the_buffer_or_another_algorithm_verifies_and_asks_for_a_rehash() {
        let current = params(1024, 1);
        let mut memory = Memory::default();
        let _ = hash(&current, &mut memory, b"warm").expect("hashes");
        let bigger = Argon2::new(Algorithm::Argon2id, Version::V0x13, params(4096, 1));
        let stored = bigger.hash_password(b"pw").expect("hashes").to_string();
        assert_eq!(verify(&current, &mut memory, b"pw", &stored), Verdict::RightButRehash);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, current.clone());
        let stored = argon2i.hash_password(b"pw").expect("hashes").to_string();
        assert_eq!(verify(&current, &mut memory, b"pw", &stored), Verdict::RightButRehash);
        let long_output =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, Some(64)).expect("valid"));
        let stored = long_output.hash_password(b"pw").expect("hashes").to_string();
        assert_eq!(verify(&current, &mut memory, b"pw", &stored), Verdict::Right);
    }

    #[test]
    fn malformed_or_empty_hashes_are_wrong_not_a_panic() {
        let p = params(1024, 1);
        let mut memory = Memory::default();
        for stored in [
            "",
            "$argon2id$",
            "not a hash",
            "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ",
            "$bcrypt$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert_eq!(verify(&p, &mut memory, b"pw", stored), Verdict::Wrong, "{stored}");
        }
    }

    #[test]
    fn a_released_buffer_is_empty_and_grows_again_on_use() {
        let p = params(1024, 1);
        let mut memory = Memory::default();
        let _ = hash(&p, &mut memory, b"pw").expect("hashes");
        assert!(!memory.is_empty());
        memory.release();
        assert!(memory.is_empty());
        let stored = hash(&p, &mut memory, b"pw").expect("hashes");
        assert_eq!(verify(&p, &mut memory, b"pw", &stored), Verdict::Right);
    }
}
