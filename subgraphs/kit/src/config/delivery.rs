//! How the notifications subgraph delivers: mail, SMS, links, and what happens when a channel
//! fails. With nothing configured (`cargo run`), mail and SMS go to development sinks under the
//! data directory, so sign-up and password reset can be completed on a laptop.

use secrecy::SecretString;
use serde::Deserialize;

use super::SecretUrl;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// SMTP server (`SMTP_URL`), e.g. `smtps://user:password@smtp.example.com` or
    /// `smtp://127.0.0.1:1025`. Unset: mail is written as `.eml` files under `<data_dir>/mail`.
    pub smtp_url: Option<SecretUrl>,
    /// The `From:` of every email.
    pub mail_from: String,
    /// The page of the front end that takes a reset token; `?token=…` is appended.
    pub reset_url: url::Url,
    /// Attempts per message before it becomes a dead letter.
    pub max_attempts: i64,
    /// Delay before the first retry, in milliseconds; each further retry doubles it.
    pub first_retry_ms: i64,
    /// The longest delay between two retries, in milliseconds.
    pub max_retry_ms: i64,
    /// Key pending messages are sealed under (any length; it is hashed). Unset: a random key is
    /// made and kept in the notifications database. Set it so the database alone cannot unseal.
    pub seal_key: Option<SecretString>,
    /// The SMS provider. Unset `webhook_url`: SMS go to `<data_dir>/sms.log` and the log.
    pub sms: SmsConfig,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: "Tessera <no-reply@tessera.localhost>".into(),
            reset_url: url::Url::parse("http://localhost:3000/reset-password").expect("a valid URL"),
            max_attempts: 6,
            first_retry_ms: 2_000,
            max_retry_ms: 10 * 60_000,
            seal_key: None,
            sms: SmsConfig::default(),
        }
    }
}

/// A generic HTTP webhook: one POST per message, the body built from `payload_template`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// Where messages are POSTed (the provider's send endpoint).
    pub webhook_url: Option<SecretUrl>,
    /// Sent as the `Authorization` header, e.g. `Bearer sk_live_…` or `Basic …`.
    pub auth_header: Option<SecretString>,
    /// The request body. `{{to}}` and `{{body}}` are replaced by the JSON-escaped number and text.
    pub payload_template: String,
    /// The request's `Content-Type`.
    pub content_type: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            webhook_url: None,
            auth_header: None,
            payload_template: r#"{"to":"{{to}}","body":"{{body}}"}"#.into(),
            content_type: "application/json".into(),
        }
    }
}
