//! A phone number in E.164 form.

use tessera_kit::ApiError;

super::text_newtype!(Phone);

impl Phone {
    /// `+` and 8 to 15 digits; spaces, dashes and brackets are dropped.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let phone: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let digits = phone.strip_prefix('+').unwrap_or("");
        if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(phone))
        } else {
            Err(ApiError::bad_input("destination", "Enter a phone number in international form, like +14155550123."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164_whatever_the_spacing() {
        assert_eq!(&*Phone::parse("+1 (415) 555-0123").expect("valid"), "+14155550123");
        for bad in ["4155550123", "+1234", "+1 415 555 0123 4567 89", "+1415abc0123"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
