//! The users subgraph's rules, parsed once at the edge: a value of these types is valid.

pub mod preferences;
pub mod profile;

pub use tessera_kit::input::Problems;

/// A BCP 47 tag whose every subtag is in the IANA registry, in canonical case (`en-GB`).
pub fn language_tag(raw: &str) -> Result<String, String> {
    let refuse = || format!("`{raw}` is not a language tag we know: use BCP 47, such as `en`, `en-GB` or `pt-BR`.");
    if raw.len() > 35 {
        return Err(refuse());
    }
    let tag = language_tags::LanguageTag::parse(raw.trim()).map_err(|_| refuse())?;
    tag.validate().map_err(|_| refuse())?;
    let canonical = tag.canonicalize().map_err(|_| refuse())?;
    Ok(canonical.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_tags_are_accepted_in_canonical_case() {
        assert_eq!(language_tag("en-gb").as_deref(), Ok("en-GB"));
        assert_eq!(language_tag("pt-BR").as_deref(), Ok("pt-BR"));
        assert_eq!(language_tag("zh-Hant-TW").as_deref(), Ok("zh-Hant-TW"));
    }

    #[test]
    fn well_formed_but_unregistered_tags_are_refused() {
        assert!(language_tag("xq-ZZ").is_err());
        assert!(language_tag("english").is_err());
        assert!(language_tag("").is_err());
        assert!(language_tag("en_US").is_err());
    }
}
