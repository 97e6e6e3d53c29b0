//! An idempotency key, as a client sends it with `placeOrder`: any printable text up to 100
//! characters (a UUID suits). The same user, key and items answer the same order for 24 hours.

use tessera_kit::input::has_control;

/// The longest key kept.
pub const KEY_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > KEY_MAX || has_control(s, false) {
            return Err(format!("Send 1 to {KEY_MAX} printable characters (a UUID made per checkout suits)."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_printable_text() {
        assert_eq!(IdempotencyKey::parse(" k-1 ").expect("valid").as_str(), "k-1");
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"x".repeat(101)).is_err());
        assert!(IdempotencyKey::parse("a\u{0}b").is_err());
    }
}
