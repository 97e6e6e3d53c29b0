//! Which channels a message takes. Transactional messages (codes, reset links, the welcome) go
//! where the event says, whatever the preferences: they were asked for. The others follow the
//! user's choices from `PreferencesChanged`, with the users subgraph's defaults until then, and
//! security alerts always go by email and in-app, so a hijacker cannot silence them.

use serde_json::Value;

use crate::{outgoing::Target, store::recipients::Recipient};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OrderUpdates,
    SecurityAlerts,
    Marketing,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Self::OrderUpdates => "orderUpdates",
            Self::SecurityAlerts => "securityAlerts",
            Self::Marketing => "marketing",
        }
    }
}

/// The in-app record plus the one requested copy.
pub fn transactional(to: Option<Target>) -> Vec<Target> {
    std::iter::once(Target::InApp).chain(to).collect()
}

/// The channels `who` chose for `kind`, where an address is known (SMS needs a verified phone).
pub fn targets(who: &Recipient, kind: Kind) -> Vec<Target> {
    let chosen = chosen(who, kind);
    let mut out = Vec::new();
    if chosen.in_app {
        out.push(Target::InApp);
    }
    if let (true, Some(address)) = (chosen.email, &who.email) {
        out.push(Target::Email(address.clone()));
    }
    if let (true, Some(phone)) = (chosen.sms, &who.phone) {
        out.push(Target::Sms(phone.clone()));
    }
    out
}

/// The channels one kind may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chosen {
    pub email: bool,
    pub sms: bool,
    pub in_app: bool,
}

/// The stored choice for `kind`, else the defaults (email and in-app for orders and security,
/// nothing for marketing, SMS only when asked for). Security alerts keep email and in-app on
/// whatever is stored.
pub fn chosen(who: &Recipient, kind: Kind) -> Chosen {
    let default = kind != Kind::Marketing;
    let doc: Option<Value> = who.channels.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let channel =
        |name: &str, default: bool| doc.as_ref().and_then(|d| d[kind.key()][name].as_bool()).unwrap_or(default);
    let forced = kind == Kind::SecurityAlerts;
    Chosen {
        email: forced || channel("email", default),
        sms: channel("sms", false),
        in_app: forced || channel("inApp", default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(channels: &str) -> Recipient {
        Recipient { email: Some("a@example.com".into()), channels: Some(channels.into()), ..Recipient::default() }
    }

    #[test]
    fn marketing_is_off_until_chosen_and_follows_the_choice() {
        assert_eq!(targets(&Recipient::default(), Kind::Marketing), vec![]);
        let on = with(r#"{"marketing":{"email":true,"sms":false,"inApp":false}}"#);
        assert_eq!(targets(&on, Kind::Marketing), vec![Target::Email("a@example.com".into())]);
    }

    #[test]
    fn sms_goes_out_when_chosen_and_a_phone_is_verified() {
        let mut who = with(r#"{"securityAlerts":{"email":true,"sms":true,"inApp":true}}"#);
        assert!(!targets(&who, Kind::SecurityAlerts).iter().any(|t| matches!(t, Target::Sms(_))), "no phone yet");
        who.phone = Some("+33612345678".into());
        assert!(targets(&who, Kind::SecurityAlerts).contains(&Target::Sms("+33612345678".into())));
    }

    #[test]
    fn security_alerts_go_out_even_when_stored_choices_say_no() {
        let off = with(r#"{"securityAlerts":{"email":false,"sms":false,"inApp":false}}"#);
        assert_eq!(targets(&off, Kind::SecurityAlerts), vec![Target::InApp, Target::Email("a@example.com".into())]);
    }
}
