//! What a valid new password looks like. Passwords follow NIST 800-63B and OWASP ASVS: length
//! counted after NFKC, no composition rules, weak ones refused by zxcvbn.

use tessera_kit::ApiError;
use unicode_normalization::UnicodeNormalization;

use super::{Email, Username};

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// The least zxcvbn score (0–4) a new password needs.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// The password as it is hashed: NFKC, so the same password typed on two keyboards matches.
pub fn normalize(raw: &str) -> String {
    raw.nfkc().collect()
}

/// A new password that passed the rules, normalized. Not `Debug`: it is a secret.
pub struct NewPassword(String);

impl NewPassword {
    /// Checks a new password for this account. `field` names the input field.
    pub fn parse(raw: &str, field: &str, username: &Username, email: &Email) -> Result<Self, ApiError> {
        let password = normalize(raw);
        let length = password.chars().count();
        if length < PASSWORD_MIN {
            return Err(ApiError::bad_input(
                field,
                format!("Use at least {PASSWORD_MIN} characters; a few unrelated words make a strong password."),
            ));
        }
        if length > PASSWORD_MAX {
            return Err(ApiError::bad_input(field, format!("Use at most {PASSWORD_MAX} characters.")));
        }
        let lower = password.to_lowercase();
        let local = email.local_part();
        if (username.len() >= 3 && lower.contains(&**username)) || (local.len() >= 3 && lower.contains(local)) {
            return Err(ApiError::bad_input(field, "The password must not contain your username or email address."));
        }
        let estimate = zxcvbn::zxcvbn(&password, &[username, email, local]);
        if estimate.score() < MIN_STRENGTH {
            let hint = estimate.feedback().and_then(|f| f.warning().map(|w| format!(" ({w})"))).unwrap_or_default();
            return Err(ApiError::bad_input(
                field,
                format!("This password is too easy to guess{hint}. Try a longer phrase of unrelated words."),
            ));
        }
        Ok(Self(password))
    }

    /// The normalized password, for the hasher.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, username: &str, email: &str) -> Result<NewPassword, ApiError> {
        let (username, email) = (Username::parse(username).expect("valid"), Email::parse(email).expect("valid"));
        NewPassword::parse(raw, "password", &username, &email)
    }

    #[test]
    fn passwords_are_judged_by_length_and_strength_not_composition() {
        assert!(check("correct horse battery staple", "ada", "ada@example.com").is_ok(), "no digits or symbols needed");
        assert!(check("Sh0rt!pass", "ada", "ada@example.com").is_err(), "too short");
        assert!(check("passwordpassword", "ada", "ada@example.com").is_err(), "weak");
        assert!(check("lovelace river quantum ada", "lovelace", "x@example.com").is_err(), "holds the username");
        assert!(check(&"x".repeat(129), "ada", "ada@example.com").is_err(), "too long");
    }

    #[test]
    fn password_length_counts_characters_after_nfkc() {
        // Full-width letters are one character each (three bytes) and normalize to ASCII.
        assert_eq!(normalize("ｐａｓｓ"), "pass");
        let err = check("ｘｙ", "ada", "ada@example.com").err().expect("too short");
        assert!(err.message.contains("12"), "{}", err.message);
    }
}
