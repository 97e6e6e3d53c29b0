//! Order numbers: short enough to read out on a support call (`ORD-7K3M-Q9XP`), in Crockford's
//! base32 alphabet (no I, L, O or U to misread), 40 random bits. Uniqueness is the database's
//! unique index; a clash (about one in a million after a million orders) just draws again.
//! Numbers are not secrets: an order is reached by id, and only by its owner.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh order number.
pub fn generate() -> String {
    let bits = fastrand::u64(..1 << 40);
    let chars: Vec<char> = (0..8).rev().map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char).collect();
    format!("ORD-{}-{}", chars[..4].iter().collect::<String>(), chars[4..].iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_readable_and_vary() {
        let n = generate();
        assert_eq!(n.len(), 13, "{n}");
        assert!(n.starts_with("ORD-") && n.as_bytes()[8] == b'-', "{n}");
        assert!(n[4..].chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))), "{n}");
        let many: std::collections::HashSet<String> = (0..1000).map(|_| generate()).collect();
        assert_eq!(many.len(), 1000);
    }
}
