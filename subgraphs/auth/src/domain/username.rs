//! A username: the public handle, also a sign-in identifier.

use tessera_kit::ApiError;

super::text_newtype!(Username);

impl Username {
    /// 3–32 characters of `a-z 0-9 _ . -`, compared lower-cased.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let username = raw.trim().to_lowercase();
        let valid = (3..=32).contains(&username.len())
            && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if valid {
            Ok(Self(username))
        } else {
            Err(ApiError::bad_input(
                "username",
                "A username is 3 to 32 characters: lower-case letters, digits, '_', '.' or '-'.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_3_to_32_safe_characters() {
        assert_eq!(&*Username::parse("Ada_L.97").expect("valid"), "ada_l.97");
        for bad in ["ab", &"a".repeat(33), "ada lovelace", "ada!", "ädä"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }
}
