//! TOTP (RFC 6238): six digits, 30-second steps, one step of clock drift either way. The crate
//! `totp-rs` computes codes and the `otpauth://` URI; which step matched is ours to know, so the
//! caller can refuse a step already used (no replay inside the window).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

const STEP: u64 = 30;

/// A fresh 160-bit secret (RFC 4226 recommends 160).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    getrandom::fill(&mut secret).expect("the OS random source is available");
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> anyhow::Result<TOTP> {
    // Authenticator apps split the label on ':'.
    let clean = |s: &str| s.replace(':', " ");
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, secret.to_vec(), Some(clean(issuer)), clean(account))
        .map_err(|e| anyhow::anyhow!("invalid TOTP setup: {e}"))
}

/// The `otpauth://` URI an authenticator app scans, and the secret in base32 for typing.
pub fn enrollment(secret: &[u8], issuer: &str, account: &str) -> anyhow::Result<(String, String)> {
    let t = totp(secret, issuer, account)?;
    Ok((t.get_url(), t.get_secret_base32()))
}

/// The time step `code` belongs to, if it matches the previous, current or next step.
pub fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<i64> {
    let t = totp(secret, "x", "x").ok()?;
    let current = now / STEP;
    let mut found = None;
    // Check all three steps every time: the time taken says nothing about which matched.
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = t.generate(step * STEP);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(i64::try_from(step).unwrap_or(i64::MAX));
        }
    }
    found
}

/// The code for a moment (tests play the authenticator app).
pub fn code_at(secret: &[u8], time: u64) -> String {
    totp(secret, "x", "x").map(|t| t.generate(time)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector_matches() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the last six are 287082.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(matching_step(secret, "287082", 59), Some(1));
        assert_eq!(matching_step(secret, "287082", 59 + 30), Some(1), "one step of drift is fine");
        assert_eq!(matching_step(secret, "287082", 59 + 90), None, "three steps later is not");
    }

    #[test]
    fn the_uri_names_the_issuer_and_account() {
        let (uri, base32) = enrollment(&new_secret(), "Tessera", "ada@example.com").expect("valid");
        assert!(uri.starts_with("otpauth://totp/Tessera:ada%40example.com?"), "{uri}");
        assert!(uri.contains(&format!("secret={base32}")), "{uri}");
    }
}
