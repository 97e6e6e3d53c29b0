//! Keys for the router's caches (documents, plans, responses, in-flight subgraph requests).
//!
//! A cache that keys on a 64-bit hash and trusts it would serve one caller's plan or answer to
//! another on a collision, and 64 bits can be collided on purpose. So every cache keys on a
//! SHA-256 digest of the full key. The maps hash that digest again for lookup, but a hit is
//! confirmed by comparing all 32 bytes, so even a lookup hasher that collides on every key
//! (see the tests beside each cache) never mixes two entries up.

use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `parts`, each length-prefixed so that `("ab", "c")` and `("a", "bc")` differ.
    pub fn of(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The hasher a cache looks its digests up with. `Colliding` sends every key to one bucket: it
/// exists for tests that prove a collision of the lookup hash never mixes two entries up.
#[derive(Debug, Clone)]
pub enum Lookup {
    Random(std::hash::RandomState),
    Colliding,
}

impl Default for Lookup {
    fn default() -> Self {
        Self::Random(std::hash::RandomState::new())
    }
}

impl std::hash::BuildHasher for Lookup {
    type Hasher = LookupHasher;
    fn build_hasher(&self) -> LookupHasher {
        match self {
            Self::Random(state) => LookupHasher(Some(state.build_hasher())),
            Self::Colliding => LookupHasher(None),
        }
    }
}

pub struct LookupHasher(Option<std::hash::DefaultHasher>);

impl std::hash::Hasher for LookupHasher {
    fn finish(&self) -> u64 {
        self.0.as_ref().map_or(7, std::hash::Hasher::finish)
    }
    fn write(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.0 {
            h.write(bytes);
        }
    }
}

/// A bounded LRU keyed by digests.
pub type Cache<V> = lru::LruCache<Digest, V, Lookup>;

pub fn cache<V>(capacity: usize, lookup: Lookup) -> Cache<V> {
    lru::LruCache::with_hasher(std::num::NonZeroUsize::new(capacity.max(1)).expect("at least one"), lookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited_so_shifting_bytes_between_them_changes_the_digest() {
        assert_ne!(Digest::of(&[b"ab", b"c"]), Digest::of(&[b"a", b"bc"]));
        assert_eq!(Digest::of(&[b"ab", b"c"]), Digest::of(&[b"ab", b"c"]));
        assert_eq!(Digest::of(&[b"x"]).hex().len(), 64);
    }
}
