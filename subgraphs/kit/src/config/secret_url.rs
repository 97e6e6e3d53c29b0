//! URLs that may carry a password (database and Redis URLs).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// A URL that may hold a password. It is checked at load time, and never printed.
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    pub fn parse(raw: &str) -> Result<Self, url::ParseError> {
        url::Url::parse(raw)?;
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn scheme(&self) -> String {
        url::Url::parse(self.expose()).map(|u| u.scheme().to_owned()).unwrap_or_default()
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({}://[redacted])", self.scheme())
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(format!("not a valid URL ({e})")))
    }
}
