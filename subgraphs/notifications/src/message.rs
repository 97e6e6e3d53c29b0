//! A message, written once per event: the subject, the clear text and HTML that go out, and the
//! redacted preview that the history keeps. Secrets (codes, reset links) are named apart from
//! the other values, so the preview can never carry one by mistake.

use uuid::Uuid;

use crate::templates::Template;

/// What a secret reads as in the history, the in-app list and the logs.
pub const REDACTED: &str = "[redacted]";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub kind: String,
    pub subject: String,
    /// Plain text, secrets included: the email's text part and the SMS.
    pub text: String,
    /// HTML, secrets included: the email's HTML part.
    pub html: String,
    /// Plain text with every secret replaced by [`REDACTED`]: what is stored.
    pub preview: String,
    #[serde(skip)]
    pub order_id: Option<Uuid>,
}

impl Message {
    /// Fills `template` in `language`. `values` are ordinary; `secrets` appear only in the text
    /// and HTML that go out.
    pub fn render(
        template: Template,
        language: Option<&str>,
        values: &[(&str, String)],
        secrets: &[(&str, String)],
    ) -> Self {
        let (subject, body) = template.words(language);
        let lookup = |redact: bool| {
            move |key: &str| -> Option<String> {
                if let Some((_, v)) = secrets.iter().find(|(k, _)| *k == key) {
                    return Some(if redact { REDACTED.to_owned() } else { v.clone() });
                }
                values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
            }
        };
        let subject = fill(subject, lookup(true));
        let text = fill(body, lookup(false));
        let html = page(language, &subject, &fill(body, |k| lookup(false)(k).map(|v| escape(&v))));
        Self {
            kind: template.kind().to_owned(),
            subject,
            text,
            html,
            preview: fill(body, lookup(true)),
            order_id: None,
        }
    }

    /// A message an admin wrote (`sendNotification`): no template and no secret.
    pub fn direct(subject: &str, body: &str) -> Self {
        Self {
            kind: "ANNOUNCEMENT".into(),
            subject: subject.to_owned(),
            text: body.to_owned(),
            html: page(None, subject, &escape(body)),
            preview: body.to_owned(),
            order_id: None,
        }
    }
}

/// Replaces each `{key}` in one pass, so a value that itself looks like `{code}` (a username,
/// say) is never expanded. Unknown keys stay as written.
fn fill(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((key, close)) if key.chars().all(|c| c.is_ascii_lowercase()) && !key.is_empty() => {
                match value(key) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The HTML email around an (escaped) body: one paragraph per line, no remote content.
fn page(language: Option<&str>, subject: &str, body: &str) -> String {
    let lang = language.map(escape).unwrap_or_else(|| "en".into());
    let paragraphs: String = body.lines().map(|l| format!("<p>{l}</p>")).collect();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em\">{paragraphs}\
         <p style=\"color:#666\">Tessera</p></body></html>",
        escape(subject)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reset() -> Message {
        Message::render(
            Template::PasswordReset,
            None,
            &[],
            &[("code", "tok3n".into()), ("link", "https://app.test/reset?token=tok3n".into())],
        )
    }

    #[test]
    fn secrets_go_out_in_the_text_and_html_but_never_in_the_preview_or_subject() {
        let m = reset();
        assert!(m.text.contains("tok3n") && m.html.contains("token=tok3n"));
        assert!(!m.preview.contains("tok3n") && !m.subject.contains("tok3n"));
        assert_eq!(m.preview.matches(REDACTED).count(), 2, "{}", m.preview);
    }

    #[test]
    fn values_are_escaped_in_html_and_never_expanded_as_placeholders() {
        let m = Message::render(Template::Welcome, None, &[("name", "<b>{code}</b>".into())], &[("code", "1".into())]);
        assert!(m.html.contains("&lt;b&gt;{code}&lt;/b&gt;"), "{}", m.html);
        assert!(m.text.contains("<b>{code}</b>"), "a value is inserted as written: {}", m.text);
    }

    #[test]
    fn french_speakers_read_french_and_everyone_else_english() {
        let fr = Message::render(Template::Otp, Some("fr-CA"), &[], &[("code", "123456".into())]);
        assert!(fr.subject.starts_with("Votre code"), "{}", fr.subject);
        let de = Message::render(Template::Otp, Some("de"), &[], &[("code", "123456".into())]);
        assert_eq!(de.subject, "Your Tessera code");
    }
}
