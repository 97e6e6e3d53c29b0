//! Email over real SMTP with lettre, or, when no `SMTP_URL` is set, a development sink that
//! writes each message as an `.eml` file (open it in any mail program) and logs its recipient and
//! subject, never its body: the body may hold a code.

use std::{path::PathBuf, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use tessera_kit::config::DeliveryConfig;

/// How long one SMTP conversation may take before it counts as a failed attempt.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Sink { dir: PathBuf, from: Mailbox },
}

/// One email, as the worker hands it over.
pub struct Email<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

impl Mailer {
    pub fn new(config: &DeliveryConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let from: Mailbox =
            config.mail_from.parse().map_err(|e| anyhow::anyhow!("delivery.mail_from is not an address: {e}"))?;
        Ok(match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("SMTP_URL cannot be used: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Self::Smtp { transport, from }
            }
            None => Self::Sink { dir: data_dir.join("mail"), from },
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { .. } => "SMTP".into(),
            Self::Sink { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn send(&self, email: &Email<'_>) -> anyhow::Result<()> {
        let to: Mailbox = email.to.parse().map_err(|e| anyhow::anyhow!("not an email address: {e}"))?;
        let from = match self {
            Self::Smtp { from, .. } | Self::Sink { from, .. } => from.clone(),
        };
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject)
            .multipart(MultiPart::alternative_plain_html(email.text.to_owned(), email.html.to_owned()))?;
        match self {
            Self::Smtp { transport, .. } => {
                transport.send(message).await?;
            }
            Self::Sink { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!("{}.eml", uuid::Uuid::now_v7());
                let path = dir.join(name);
                tokio::fs::write(&path, message.formatted()).await?;
                tracing::info!(to = email.to, subject = email.subject, file = %path.display(), "mail written to the development sink");
            }
        }
        Ok(())
    }
}
