//! The events the notifications subgraph turns into messages, and the projections it keeps.
//! Each event is applied once (kit inbox), in one transaction with the rows it queues; the
//! delivery worker is poked after the commit.

use serde::Deserialize;
use serde_json::Value;
use tessera_kit::{
    bus::{Event, inbox::Handler, outbox},
    db::Tx,
};
use uuid::Uuid;

use crate::{
    State,
    message::Message,
    outgoing::{self, Target},
    routing::{self, Kind},
    store::{deliveries, notifications, recipients},
    templates::Template,
};

pub struct Events {
    pub state: State,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    user_id: Uuid,
    email: Option<String>,
    username: Option<String>,
    channel: Option<String>,
    destination: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    fields: Vec<String>,
    order_id: Option<Uuid>,
    /// The order's readable number (`ORD-7K3M-Q9XP`); older events had none.
    number: Option<String>,
    status: Option<String>,
    locked_seconds: Option<i64>,
}

impl Handler for Events {
    async fn handle(&self, event: &Event, tx: &mut Tx) -> anyhow::Result<()> {
        const KNOWN: [&str; 14] = [
            "AccountRegistered",
            "RegistrationAttempted",
            "SecondFactorLocked",
            "PasswordResetRequested",
            "OtpRequested",
            "LoginFromNewDevice",
            "SessionRevoked",
            "ProfileUpdated",
            "PasswordChanged",
            "PhoneVerified",
            "PreferencesChanged",
            "OrderPlaced",
            "OrderStatusChanged",
            "AccountDeleted",
        ];
        if !KNOWN.contains(&event.kind.as_str()) {
            return Ok(());
        }
        let user = event.user_id()?;
        if event.kind == "AccountDeleted" {
            return erase(tx, user).await;
        }
        if tessera_kit::erasure::is_erased(tx, user).await? {
            return Ok(()); // a late event about someone who is gone
        }
        if event.kind == "PreferencesChanged" {
            return preferences(tx, &event.payload).await;
        }
        if let ("PhoneVerified", Some(phone)) = (event.kind.as_str(), event.payload["phone"].as_str()) {
            return Ok(recipients::save_phone(tx, user, phone).await?);
        }
        let p: Payload = serde_json::from_value(event.payload.clone())?;
        if let (Some(email), "AccountRegistered" | "LoginFromNewDevice") = (&p.email, event.kind.as_str()) {
            recipients::save_contact(tx, p.user_id, email, p.username.as_deref()).await?;
        }
        let who = recipients::get(tx, p.user_id).await?.unwrap_or_default();
        let lang = who.language.as_deref();
        let name = p.username.clone().or(who.username.clone()).unwrap_or_default();
        // Secrets arrive sealed under the bus key (see `Event::with_secret`), and are opened only
        // here, to be written into the message that is sealed again while it waits to be sent.
        let secret = |field: &str| event.secret(&self.state.rt.bus_seal, field);
        let (message, targets) = match event.kind.as_str() {
            "AccountRegistered" => {
                let (template, secrets) = match secret("verificationCode")? {
                    Some(code) => (Template::WelcomeWithCode, vec![("code", code)]),
                    None => (Template::Welcome, vec![]),
                };
                let m = Message::render(template, lang, &[("name", name)], &secrets);
                (m, routing::transactional(p.email.clone().map(Target::Email)))
            }
            "PasswordResetRequested" => {
                let token = secret("token")?.unwrap_or_default();
                let mut link = self.state.rt.config.delivery.reset_url.clone();
                link.query_pairs_mut().append_pair("token", &token);
                let m = Message::render(Template::PasswordReset, lang, &[], &[("code", token), ("link", link.into())]);
                (m, routing::transactional(p.email.clone().or(who.email.clone()).map(Target::Email)))
            }
            "OtpRequested" => {
                let m = Message::render(Template::Otp, lang, &[], &[("code", secret("code")?.unwrap_or_default())]);
                let to = p
                    .destination
                    .clone()
                    .map(|d| if p.channel.as_deref() == Some("SMS") { Target::Sms(d) } else { Target::Email(d) });
                (m, routing::transactional(to))
            }
            "LoginFromNewDevice" => {
                let device = p.user_agent.clone().unwrap_or_else(|| "unknown device".into());
                let ip = p.ip.clone().unwrap_or_else(|| "unknown address".into());
                let m = Message::render(Template::NewDevice, lang, &[("device", device), ("ip", ip)], &[]);
                (m, routing::targets(&who, Kind::SecurityAlerts))
            }
            "SessionRevoked" if p.reason.as_deref() == Some("reuse") => {
                (Message::render(Template::SessionReuse, lang, &[], &[]), routing::targets(&who, Kind::SecurityAlerts))
            }
            "ProfileUpdated" => {
                let m = Message::render(Template::ProfileUpdated, lang, &[("fields", p.fields.join(", "))], &[]);
                (m, routing::targets(&who, Kind::SecurityAlerts))
            }
            "RegistrationAttempted" => {
                let m = Message::render(Template::RegistrationAttempted, lang, &[], &[]);
                (m, routing::transactional(p.email.clone().or(who.email.clone()).map(Target::Email)))
            }
            "SecondFactorLocked" => {
                let minutes = (p.locked_seconds.unwrap_or(0) + 59) / 60;
                let m = Message::render(Template::SecondFactorLocked, lang, &[("minutes", minutes.to_string())], &[]);
                (m, routing::targets(&who, Kind::SecurityAlerts))
            }
            "PasswordChanged" => (
                Message::render(Template::PasswordChanged, lang, &[], &[]),
                routing::targets(&who, Kind::SecurityAlerts),
            ),
            "OrderPlaced" | "OrderStatusChanged" => {
                let order = p.number.clone().unwrap_or_else(|| {
                    p.order_id.map(|o| o.simple().to_string()[..8].to_uppercase()).unwrap_or_default()
                });
                let status = p.status.clone().unwrap_or_default().to_lowercase().replace('_', " ");
                let template = if event.kind == "OrderPlaced" { Template::OrderPlaced } else { Template::OrderStatus };
                let mut m = Message::render(template, lang, &[("order", order), ("status", status)], &[]);
                m.order_id = p.order_id;
                (m, routing::targets(&who, Kind::OrderUpdates))
            }
            _ => return Ok(()), // a SessionRevoked for a sign-out: nothing to say
        };
        outgoing::queue(tx, &self.state.sealer, Some(p.user_id), &message, &targets).await?;
        Ok(())
    }

    fn applied(&self, _event: &Event) {
        self.state.dispatcher.poke();
    }
}

/// `PreferencesChanged`: the channels and language, kept locally with their version.
async fn preferences(tx: &mut Tx, payload: &Value) -> anyhow::Result<()> {
    let user: Uuid = serde_json::from_value(payload["userId"].clone())?;
    let version = payload["version"].as_i64().unwrap_or(0);
    let language = payload["language"].as_str();
    recipients::save_preferences(tx, user, version, language, &payload["channels"].to_string()).await?;
    Ok(())
}

/// `AccountDeleted`: everything this subgraph holds about the person goes, pending messages too.
async fn erase(tx: &mut Tx, user: Uuid) -> anyhow::Result<()> {
    notifications::delete_for(tx, user).await?;
    deliveries::delete_for(tx, user).await?;
    recipients::delete_for(tx, user).await?;
    tessera_kit::erasure::mark_erased(tx, user).await?;
    outbox::forget_published(tx, user).await?;
    Ok(())
}
