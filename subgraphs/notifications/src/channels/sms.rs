//! SMS behind a provider trait. The generic webhook fits most HTTP providers (URL, an
//! `Authorization` header and a body template are configuration); the development sink appends to
//! `<data_dir>/sms.log`. Neither logs a message's text: it may be a code.

use std::{path::PathBuf, sync::Arc, time::Duration};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tessera_kit::config::{SecretUrl, SmsConfig};

pub trait SmsProvider: Send + Sync {
    /// Sends `body` to the phone number `to`. An error is retried later by the worker.
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
    fn describe(&self) -> String;
}

/// The configured provider: the webhook when a URL is set, the development sink otherwise.
pub fn sms_provider(config: &SmsConfig, data_dir: &std::path::Path) -> anyhow::Result<Arc<dyn SmsProvider>> {
    Ok(match &config.webhook_url {
        Some(url) => Arc::new(Webhook::new(url.clone(), config.auth_header.clone(), config)?),
        None => Arc::new(DevSink { file: data_dir.join("sms.log") }),
    })
}

pub struct Webhook {
    client: reqwest::Client,
    url: SecretUrl,
    auth_header: Option<SecretString>,
    template: String,
    content_type: String,
}

impl Webhook {
    pub fn new(url: SecretUrl, auth_header: Option<SecretString>, config: &SmsConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self {
            client,
            url,
            auth_header,
            template: config.payload_template.clone(),
            content_type: config.content_type.clone(),
        })
    }

    /// The request body: `{{to}}` and `{{body}}` replaced by JSON-escaped strings (without the
    /// quotes), so a message cannot break out of the template's JSON.
    pub fn payload(&self, to: &str, body: &str) -> String {
        let esc = |s: &str| {
            let quoted = serde_json::to_string(s).expect("a string serializes");
            quoted[1..quoted.len() - 1].to_owned()
        };
        self.template.replace("{{to}}", &esc(to)).replace("{{body}}", &esc(body))
    }
}

impl SmsProvider for Webhook {
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let mut request = self
                .client
                .post(self.url.expose())
                .header(reqwest::header::CONTENT_TYPE, &self.content_type)
                .body(self.payload(to, body));
            if let Some(auth) = &self.auth_header {
                request = request.header(reqwest::header::AUTHORIZATION, auth.expose_secret());
            }
            // The error names the status only: reqwest's own message could carry the URL's secret.
            let response =
                request.send().await.map_err(|e| anyhow::anyhow!("the SMS provider is unreachable ({})", kind(&e)))?;
            anyhow::ensure!(response.status().is_success(), "the SMS provider answered {}", response.status());
            Ok(())
        })
    }

    fn describe(&self) -> String {
        format!("the SMS webhook ({}://…)", self.url.scheme())
    }
}

fn kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused"
    } else {
        "request failed"
    }
}

pub struct DevSink {
    file: PathBuf,
}

impl SmsProvider for DevSink {
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            use tokio::io::AsyncWriteExt;
            if let Some(dir) = self.file.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let line = format!("{} to {to}: {}\n", chrono::Utc::now().to_rfc3339(), body.replace('\n', " "));
            let mut f = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.file).await?;
            f.write_all(line.as_bytes()).await?;
            tracing::info!(to, file = %self.file.display(), "SMS written to the development sink");
            Ok(())
        })
    }

    fn describe(&self) -> String {
        format!("SMS lines in {}", self.file.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_payload_escapes_the_message_into_the_template() {
        let url = SecretUrl::parse("https://sms.example/send").expect("a URL");
        let hook = Webhook::new(url, None, &SmsConfig::default()).expect("builds");
        let body = hook.payload("+33612345678", "code \"1\"\nbye");
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("still JSON");
        assert_eq!(parsed["body"], "code \"1\"\nbye");
        assert_eq!(parsed["to"], "+33612345678");
    }
}
