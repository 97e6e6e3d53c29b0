//! What a valid email, username and password look like. Passwords follow NIST 800-63B and
//! OWASP ASVS: length counted after NFKC, no composition rules, weak ones refused by zxcvbn.

use tessera_kit::ApiError;
use unicode_normalization::UnicodeNormalization;

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// The least zxcvbn score (0–4) a new password needs.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// Lower-cased and trimmed: `Ada@Example.COM ` and `ada@example.com` are one account.
pub fn normalize_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.matches('@').count() == 1;
    if valid { Ok(email) } else { Err(ApiError::bad_input("email", "Enter an email address like name@example.com.")) }
}

/// 3–32 characters of `a-z 0-9 _ . -`, compared lower-cased.
pub fn normalize_username(raw: &str) -> Result<String, ApiError> {
    let username = raw.trim().to_lowercase();
    let valid = (3..=32).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if valid {
        Ok(username)
    } else {
        Err(ApiError::bad_input(
            "username",
            "A username is 3 to 32 characters: lower-case letters, digits, '_', '.' or '-'.",
        ))
    }
}

/// A sign-in identifier, normalized the way accounts store it: an email or a username.
pub fn normalize_identifier(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// The password as it is hashed: NFKC, so the same password typed on two keyboards matches.
pub fn normalize_password(raw: &str) -> String {
    raw.nfkc().collect()
}

/// Checks a new password and returns it normalized. `field` names the input field.
pub fn new_password(raw: &str, field: &str, username: &str, email: &str) -> Result<String, ApiError> {
    let password = normalize_password(raw);
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
    let local = email.split('@').next().unwrap_or_default();
    if (username.len() >= 3 && lower.contains(username)) || (local.len() >= 3 && lower.contains(local)) {
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
    Ok(password)
}

/// A phone number in E.164 form (`+` and 8 to 15 digits).
pub fn normalize_phone(raw: &str) -> Result<String, ApiError> {
    let phone: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = phone.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(phone)
    } else {
        Err(ApiError::bad_input("destination", "Enter a phone number in international form, like +14155550123."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_trimmed() {
        assert_eq!(normalize_email("  Ada@Example.COM ").expect("valid"), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b@c.com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_3_to_32_safe_characters() {
        assert_eq!(normalize_username("Ada_L.97").expect("valid"), "ada_l.97");
        for bad in ["ab", &"a".repeat(33), "ada lovelace", "ada!", "ädä"] {
            assert!(normalize_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_judged_by_length_and_strength_not_composition() {
        let ok = new_password("correct horse battery staple", "password", "ada", "ada@example.com");
        assert!(ok.is_ok(), "a long phrase of words passes without digits or symbols");
        assert!(new_password("Sh0rt!pass", "password", "ada", "ada@example.com").is_err(), "too short");
        assert!(new_password("passwordpassword", "password", "ada", "ada@example.com").is_err(), "weak");
        assert!(new_password("lovelace river quantum ada", "password", "lovelace", "x@example.com").is_err());
        assert!(new_password(&"x".repeat(129), "password", "ada", "ada@example.com").is_err(), "too long");
    }

    #[test]
    fn password_length_counts_characters_after_nfkc() {
        // Twelve full-width letters are twelve characters (36 bytes) and normalize to ASCII.
        assert_eq!(normalize_password("ｐａｓｓ"), "pass");
        let err = new_password("ｘｙ", "password", "ada", "ada@example.com").expect_err("too short");
        assert!(err.message.contains("12"), "{}", err.message);
    }
}
