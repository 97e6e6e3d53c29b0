//! Settings: which channels each kind of notification uses, the theme, the language.
//! Security alerts always go by email and in-app: an attacker who took over an account must not
//! be able to silence the alerts that would tell its owner.

use serde::{Deserialize, Serialize};

use super::{Problems, language_tag};

/// One kind's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channels {
    pub email: bool,
    pub sms: bool,
    pub in_app: bool,
}

/// The channels of every kind. Stored as one JSON document; its field names are the event's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Routing {
    pub order_updates: Channels,
    pub security_alerts: Channels,
    pub marketing: Channels,
}

impl Default for Routing {
    /// Orders and security by email and in-app; SMS only when asked for (it costs, and needs a
    /// verified phone); marketing off until the user opts in.
    fn default() -> Self {
        let usual = Channels { email: true, sms: false, in_app: true };
        Self {
            order_updates: usual,
            security_alerts: usual,
            marketing: Channels { email: false, sms: false, in_app: false },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "LIGHT",
            Theme::Dark => "DARK",
            Theme::System => "SYSTEM",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "LIGHT" => Theme::Light,
            "DARK" => Theme::Dark,
            _ => Theme::System,
        }
    }
}

/// A partial change of one kind's channels.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelsChange {
    pub email: Option<bool>,
    pub sms: Option<bool>,
    pub in_app: Option<bool>,
}

impl ChannelsChange {
    fn apply(self, to: &mut Channels) {
        to.email = self.email.unwrap_or(to.email);
        to.sms = self.sms.unwrap_or(to.sms);
        to.in_app = self.in_app.unwrap_or(to.in_app);
    }
}

/// A partial change of the settings (`language`: absent keeps, null clears).
#[derive(Debug, Default)]
pub struct PreferencesChange {
    pub theme: Option<Theme>,
    pub language: Option<Option<String>>,
    pub order_updates: Option<ChannelsChange>,
    pub security_alerts: Option<ChannelsChange>,
    pub marketing: Option<ChannelsChange>,
}

/// The settings as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub routing: Routing,
    pub theme: Theme,
    pub language: Option<String>,
}

impl Settings {
    /// Applies `change`, refusing it whole (naming each bad field) if any part is invalid.
    pub fn apply(&self, change: PreferencesChange) -> Result<Settings, Problems> {
        let mut problems = Problems::default();
        let mut next = self.clone();
        if let Some(theme) = change.theme {
            next.theme = theme;
        }
        match change.language {
            None => {}
            Some(None) => next.language = None,
            Some(Some(raw)) => next.language = problems.check("language", language_tag(&raw)).or(next.language),
        }
        for (c, to) in [
            (change.order_updates, &mut next.routing.order_updates),
            (change.security_alerts, &mut next.routing.security_alerts),
            (change.marketing, &mut next.routing.marketing),
        ] {
            if let Some(c) = c {
                c.apply(to);
            }
        }
        let security = next.routing.security_alerts;
        if !security.email {
            problems.add("securityAlerts.email", "Security alerts always go by email: they cannot be turned off.");
        }
        if !security.in_app {
            problems.add("securityAlerts.inApp", "Security alerts always show in-app: they cannot be turned off.");
        }
        if problems.is_empty() { Ok(next) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marketing_is_off_until_the_user_opts_in() {
        let s = Settings::default();
        assert!(!s.routing.marketing.email && !s.routing.marketing.sms && !s.routing.marketing.in_app);
        assert!(s.routing.security_alerts.email && s.routing.security_alerts.in_app);
    }

    #[test]
    fn security_alerts_cannot_be_turned_off_but_sms_is_optional() {
        let off = PreferencesChange {
            security_alerts: Some(ChannelsChange { email: Some(false), in_app: Some(false), sms: None }),
            ..Default::default()
        };
        let fields: Vec<String> =
            Settings::default().apply(off).expect_err("refused").0.into_iter().map(|p| p.0).collect();
        assert_eq!(fields, ["securityAlerts.email", "securityAlerts.inApp"]);
        let sms = PreferencesChange {
            security_alerts: Some(ChannelsChange { sms: Some(true), ..Default::default() }),
            ..Default::default()
        };
        assert!(Settings::default().apply(sms).expect("allowed").routing.security_alerts.sms);
    }

    #[test]
    fn a_partial_change_keeps_the_rest() {
        let change = PreferencesChange {
            marketing: Some(ChannelsChange { email: Some(true), ..Default::default() }),
            language: Some(Some("fr-ca".into())),
            ..Default::default()
        };
        let next = Settings::default().apply(change).expect("valid");
        assert_eq!(next.routing.marketing, Channels { email: true, sms: false, in_app: false });
        assert_eq!(next.routing.order_updates, Routing::default().order_updates);
        assert_eq!(next.language.as_deref(), Some("fr-CA"));
    }
}
