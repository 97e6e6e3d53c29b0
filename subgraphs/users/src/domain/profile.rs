//! A profile change: every field optional (absent leaves it, null clears it), each one checked.

use chrono_tz::Tz;

use tessera_kit::input::{has_control, https_url};

use super::{Problems, language_tag};

pub const DISPLAY_NAME_MAX: usize = 64;
pub const BIO_MAX: usize = 500;

/// What to do with one field: keep it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }
}

/// The raw input, as the resolver received it (`None` = absent, `Some(None)` = null).
#[derive(Debug, Default)]
pub struct RawProfile {
    pub display_name: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub timezone: Option<Option<String>>,
}

/// A valid change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    pub display_name: Change<String>,
    pub bio: Change<String>,
    pub avatar_url: Change<String>,
    pub locale: Change<String>,
    pub timezone: Change<String>,
}

impl ProfileChange {
    /// Parses every field, and names every bad one.
    pub fn parse(raw: RawProfile) -> Result<Self, Problems> {
        let mut problems = Problems::default();
        let change = Self {
            display_name: field(&mut problems, "displayName", raw.display_name, display_name),
            bio: field(&mut problems, "bio", raw.bio, bio),
            avatar_url: field(&mut problems, "avatarUrl", raw.avatar_url, avatar_url),
            locale: field(&mut problems, "locale", raw.locale, language_tag),
            timezone: field(&mut problems, "timezone", raw.timezone, timezone),
        };
        if problems.is_empty() { Ok(change) } else { Err(problems) }
    }

    /// The GraphQL names of the fields this change touches (for `ProfileUpdated`).
    pub fn touched(&self) -> Vec<&'static str> {
        [
            ("displayName", self.display_name.is_keep()),
            ("bio", self.bio.is_keep()),
            ("avatarUrl", self.avatar_url.is_keep()),
            ("locale", self.locale.is_keep()),
            ("timezone", self.timezone.is_keep()),
        ]
        .into_iter()
        .filter_map(|(name, keep)| (!keep).then_some(name))
        .collect()
    }
}

fn field(
    problems: &mut Problems,
    name: &str,
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<String, String>,
) -> Change<String> {
    match raw {
        None => Change::Keep,
        Some(None) => Change::Clear,
        Some(Some(value)) => problems.check(name, parse(&value)).map_or(Change::Keep, Change::Set),
    }
}

fn display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > DISPLAY_NAME_MAX {
        return Err(format!("A display name is 1 to {DISPLAY_NAME_MAX} characters (null clears it)."));
    }
    if has_control(name, false) {
        return Err("A display name cannot hold control characters or line breaks.".into());
    }
    Ok(name.to_owned())
}

fn bio(raw: &str) -> Result<String, String> {
    let bio = raw.trim();
    if bio.chars().count() > BIO_MAX {
        return Err(format!("A bio is at most {BIO_MAX} characters."));
    }
    if has_control(bio, true) {
        return Err("A bio cannot hold control characters (line breaks are fine).".into());
    }
    Ok(bio.to_owned())
}

fn avatar_url(raw: &str) -> Result<String, String> {
    https_url(raw, "An avatar URL")
}

/// A zone of the IANA database (`Europe/Paris`), not an offset: offsets miss daylight saving.
fn timezone(raw: &str) -> Result<String, String> {
    raw.trim().parse::<Tz>().map(|tz| tz.name().to_owned()).map_err(|_| {
        format!("`{raw}` is not an IANA time zone: use a name such as `Europe/Paris` or `America/New_York`.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(field: &str, value: &str) -> RawProfile {
        let v = Some(Some(value.to_owned()));
        match field {
            "displayName" => RawProfile { display_name: v, ..Default::default() },
            "bio" => RawProfile { bio: v, ..Default::default() },
            "avatarUrl" => RawProfile { avatar_url: v, ..Default::default() },
            "locale" => RawProfile { locale: v, ..Default::default() },
            _ => RawProfile { timezone: v, ..Default::default() },
        }
    }

    fn refused(field: &str, value: &str) -> bool {
        ProfileChange::parse(set(field, value)).is_err()
    }

    #[test]
    fn avatar_urls_must_be_https_with_a_host_and_no_credentials() {
        assert!(!refused("avatarUrl", "https://cdn.example.com/a.png"));
        for bad in [
            "http://example.com/a.png",
            "javascript:alert(1)",
            "data:image/png;base64,AA",
            "https://u:p@x.io/a",
            "nope",
        ] {
            assert!(refused("avatarUrl", bad), "{bad} was accepted");
        }
    }

    #[test]
    fn time_zones_must_be_iana_names() {
        assert!(!refused("timezone", "Europe/Paris"));
        assert!(refused("timezone", "Mars/Olympus_Mons"));
        assert!(refused("timezone", "+02:00"));
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        let change = ProfileChange::parse(set("displayName", "  Ada  ")).expect("valid");
        assert_eq!(change.display_name, Change::Set("Ada".into()));
        assert!(refused("displayName", "   "));
        assert!(refused("displayName", &"x".repeat(DISPLAY_NAME_MAX + 1)));
        assert!(refused("displayName", "a\nb"));
        assert!(refused("bio", &"x".repeat(BIO_MAX + 1)));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let raw = RawProfile {
            display_name: Some(Some(String::new())),
            avatar_url: Some(Some("ftp://x".into())),
            locale: Some(Some("zz-ZZ".into())),
            timezone: Some(Some("Nowhere".into())),
            bio: None,
        };
        let names: Vec<String> =
            ProfileChange::parse(raw).expect_err("invalid").0.into_iter().map(|(f, _)| f).collect();
        assert_eq!(names, ["displayName", "avatarUrl", "locale", "timezone"]);
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let change = ProfileChange::parse(RawProfile { bio: Some(None), ..Default::default() }).expect("valid");
        assert_eq!(change.bio, Change::Clear);
        assert_eq!(change.touched(), ["bio"]);
    }
}
