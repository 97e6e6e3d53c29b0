//! Input checks that more than one subgraph makes: collecting every bad field of a mutation's
//! input into one answer, and the text and URL rules that keep stored values safe to show.

/// Bad input fields, collected so one answer names every one of them
/// (`ApiError::bad_fields` turns them into `extensions.fields`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<(String, String)>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    /// Runs `parse` and keeps its value, or records its message against `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else every problem.
    pub fn or<T>(self, value: T) -> Result<T, Problems> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

/// Whether `s` holds control characters (other than line breaks and tabs, when allowed): they
/// hide text in admin views and break logs and CSV exports.
pub fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
}

/// The longest URL kept.
pub const URL_MAX: usize = 2048;

/// An `https` URL with a host and no credentials, normalized. Other schemes (`javascript:`,
/// `data:`, plain `http`) would let one user's input inject script or mixed content into other
/// users' pages. `what` names the URL in the message ("An avatar URL", "An image URL").
pub fn https_url(raw: &str, what: &str) -> Result<String, String> {
    let refuse = |why: &str| format!("{what} must be an https:// address: {why}.");
    if raw.len() > URL_MAX {
        return Err(refuse(&format!("this one is longer than {URL_MAX} characters")));
    }
    let url = url::Url::parse(raw.trim()).map_err(|_| refuse("this is not a URL"))?;
    if url.scheme() != "https" {
        return Err(refuse(&format!("`{}:` is not allowed", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it must not carry a user name or password"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_with_a_host_and_no_credentials_pass() {
        assert_eq!(https_url("https://cdn.example.com/a.png", "X").as_deref(), Ok("https://cdn.example.com/a.png"));
        for bad in ["http://x.io/a", "javascript:alert(1)", "data:image/png;base64,AA", "https://u:p@x.io/a", "nope"] {
            assert!(https_url(bad, "X").is_err(), "{bad} was accepted");
        }
        assert!(https_url(&format!("https://x.io/{}", "a".repeat(URL_MAX)), "X").is_err());
    }

    #[test]
    fn problems_name_every_field_and_pass_a_value_only_when_empty() {
        let mut p = Problems::default();
        assert_eq!(p.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(Problems::default().or(7), Ok(7));
        p.check::<()>("b", Err("bad".into()));
        assert_eq!(p.or(()), Err(Problems(vec![("b".into(), "bad".into())])));
    }
}
