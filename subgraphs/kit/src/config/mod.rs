//! Typed, layered configuration: defaults, then an optional YAML file, then `TESSERA_*`
//! environment variables (nested keys joined by `__`, e.g. `TESSERA_AUTH__DATABASE_URL`).
//!
//! Every struct denies unknown fields, so a typo stops start-up with a message naming the key
//! and where it came from, instead of being silently ignored.

mod bus;
mod catalogue;
mod checkout;
mod delivery;
mod identity;
mod retention;
mod router;
mod secret_url;
mod services;

use std::{net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Yaml},
};
use secrecy::SecretString;
use serde::Deserialize;

pub use bus::BusConfig;
pub use catalogue::CatalogueConfig;
pub use checkout::CheckoutConfig;
pub use delivery::{DeliveryConfig, SmsConfig};
pub use identity::IdentityConfig;
pub use retention::RetentionConfig;
pub use router::{
    AuthorizationMode, BucketConfig, CorsConfig, InboundDedup, LimitsConfig, RateLimitConfig, RouterConfig, TlsConfig,
    TrafficConfig,
};
pub use secret_url::SecretUrl;
pub use services::{CallConfig, ServiceClientConfig, ServicesConfig};

/// The five subgraphs, in start order. Auth comes first: everyone verifies tokens against its JWKS.
pub const SUBGRAPHS: [&str; 5] = ["auth", "users", "products", "orders", "notifications"];

/// Which defaults apply before the file and the environment: `dev` (the default) suits a
/// laptop; `production` closes what should not be open on the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Dev,
    Production,
}

/// The production profile's defaults: no introspection, JSON logs, verified emails to sign in.
const PRODUCTION_DEFAULTS: &str = "log_format: json\nrouter:\n  introspection: false\nidentity:\n  require_verified_email: true\ncatalogue:\n  demo_catalogue: false\n";

/// The whole configuration of a Tessera process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `dev` or `production` (`TESSERA_PROFILE`): the defaults the rest starts from.
    pub profile: Profile,
    /// Directory for the SQLite files and the development mail sink.
    pub data_dir: PathBuf,
    /// Log format: `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Redis URL. When set, the bus (events and pub/sub) runs on Redis instead of in-process.
    pub redis_url: Option<SecretUrl>,
    /// Prefix of every Redis key the bus uses, so deployments can share one Redis.
    pub redis_namespace: String,
    /// The event bus's own settings.
    pub bus: BusConfig,
    /// The master key (`TESSERA_MASTER_KEY`; any length, it is hashed) that wraps each
    /// subgraph's data key, under which secrets at rest are encrypted (TOTP secrets, the code
    /// HMAC key, the signing seeds). Unset: one is made and kept in `<data_dir>/master.key`,
    /// apart from a PostgreSQL database but beside a SQLite one; set it in production.
    pub master_key: Option<SecretString>,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// How long graceful shutdown waits for in-flight requests, in seconds.
    pub shutdown_grace_seconds: u64,
    /// How access tokens are verified.
    pub jwt: JwtConfig,
    /// Accounts, sessions and their protections (the auth subgraph).
    pub identity: IdentityConfig,
    /// Email, SMS and in-app delivery (the notifications subgraph). `SMTP_URL` sets `delivery.smtp_url`.
    pub delivery: DeliveryConfig,
    /// Peers whose `X-Forwarded-For` a subgraph believes (the router, by default on loopback).
    /// Anyone else is taken at their TCP address, so per-IP limits cannot be dodged by a header.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The services that call subgraphs directly, and their client-credentials secrets.
    pub services: ServicesConfig,
    /// The catalogue and its stock reservations (the products subgraph).
    pub catalogue: CatalogueConfig,
    /// Checkout and its recovery sweep (the orders subgraph).
    pub checkout: CheckoutConfig,
    /// How long rows live once they have served their purpose.
    pub retention: RetentionConfig,
    /// The gateway router.
    pub router: RouterConfig,
    /// The auth subgraph.
    pub auth: SubgraphConfig,
    /// The users subgraph.
    pub users: SubgraphConfig,
    /// The products subgraph.
    pub products: SubgraphConfig,
    /// The orders subgraph.
    pub orders: SubgraphConfig,
    /// The notifications subgraph.
    pub notifications: SubgraphConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            profile: Profile::Dev,
            data_dir: PathBuf::from("./data"),
            log_format: LogFormat::Pretty,
            redis_url: None,
            redis_namespace: "tessera".into(),
            bus: BusConfig::default(),
            master_key: None,
            body_limit_bytes: 1024 * 1024,
            shutdown_grace_seconds: 10,
            jwt: JwtConfig::default(),
            identity: IdentityConfig::default(),
            delivery: DeliveryConfig::default(),
            trusted_proxies: vec![
                "127.0.0.0/8".parse().expect("a valid network"),
                "::1/128".parse().expect("a valid network"),
            ],
            services: ServicesConfig::default(),
            catalogue: CatalogueConfig::default(),
            checkout: CheckoutConfig::default(),
            retention: RetentionConfig::default(),
            router: RouterConfig::default(),
            auth: SubgraphConfig::on_port(4001),
            users: SubgraphConfig::on_port(4002),
            products: SubgraphConfig::on_port(4003),
            orders: SubgraphConfig::on_port(4004),
            notifications: SubgraphConfig::on_port(4005),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// Expected `iss` claim.
    pub issuer: String,
    /// Expected `aud` claim.
    pub audience: String,
    /// Where the public keys are fetched. Defaults to the auth subgraph's `/.well-known/jwks.json`.
    pub jwks_url: Option<url::Url>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    /// Least time between two JWKS refetches triggered by an unknown `kid`, in seconds.
    /// Stops a flood of forged `kid`s from turning into a flood of JWKS requests.
    pub refetch_interval_seconds: u64,
    /// How long fetched keys are trusted before the JWKS is fetched again, in seconds. A key
    /// deleted from the JWKS (after a compromise) stops verifying everywhere within this time.
    pub keys_ttl_seconds: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: "tessera".into(),
            audience: "tessera".into(),
            jwks_url: None,
            leeway_seconds: 5,
            refetch_interval_seconds: 10,
            keys_ttl_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphConfig {
    /// Address the subgraph listens on.
    pub listen: SocketAddr,
    /// PostgreSQL URL. When unset, a SQLite file `<data_dir>/<name>.db` is used.
    pub database_url: Option<SecretUrl>,
    /// Most database connections this subgraph opens.
    pub pool_size: u32,
    /// Where other services reach this subgraph directly (orders calls products here), e.g.
    /// `http://products:4003` (`TESSERA_PRODUCTS__URL`). Unset: `http://<listen>`.
    pub url: Option<url::Url>,
}

impl SubgraphConfig {
    fn on_port(port: u16) -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], port)), ..Self::default() }
    }
}

impl Default for SubgraphConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 0)), database_url: None, pool_size: 8, url: None }
    }
}

impl Config {
    /// Loads the configuration. `file` is an optional YAML file; `component` is the one
    /// component a `tessera serve` process runs, which lets the container-style plain
    /// `DATABASE_URL` apply to it.
    pub fn load(file: Option<&std::path::Path>, component: Option<&str>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!("configuration file {} does not exist", file.display())));
            }
            figment = figment.merge(Yaml::file(file));
        }
        figment = figment
            .merge(Env::prefixed("TESSERA_").split("__").ignore(&["config"]))
            .merge(Env::raw().only(&["redis_url"]))
            .merge(Env::raw().only(&["smtp_url"]).map(|_| "delivery.smtp_url".into()));
        if let Some(name) = component.filter(|c| SUBGRAPHS.contains(c)) {
            let key = format!("{name}.database_url");
            figment = figment.merge(Env::raw().only(&["database_url"]).map(move |_| key.clone().into()));
        }
        // The profile picks a base layer of defaults; the file and the environment still win.
        if figment.extract_inner::<Profile>("profile").is_ok_and(|p| p == Profile::Production) {
            figment = Figment::from(Yaml::string(PRODUCTION_DEFAULTS)).merge(figment);
        }
        Self::from_figment(figment)
    }

    /// Extracts and checks a configuration from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| describe(&e)).collect::<Vec<_>>().join("; ")))?;
        Ok(config)
    }

    /// The configuration of one subgraph by name.
    pub fn subgraph(&self, name: &str) -> &SubgraphConfig {
        match name {
            "auth" => &self.auth,
            "users" => &self.users,
            "products" => &self.products,
            "orders" => &self.orders,
            "notifications" => &self.notifications,
            other => panic!("unknown subgraph {other}: the names are {SUBGRAPHS:?}"),
        }
    }

    pub fn subgraph_mut(&mut self, name: &str) -> &mut SubgraphConfig {
        match name {
            "auth" => &mut self.auth,
            "users" => &mut self.users,
            "products" => &mut self.products,
            "orders" => &mut self.orders,
            "notifications" => &mut self.notifications,
            other => panic!("unknown subgraph {other}: the names are {SUBGRAPHS:?}"),
        }
    }

    /// The JWKS URL: configured, or the auth subgraph's own.
    pub fn jwks_url(&self) -> url::Url {
        self.jwt.jwks_url.clone().unwrap_or_else(|| {
            self.subgraph_url("auth").join("/.well-known/jwks.json").expect("a path joins any base URL")
        })
    }

    /// Where services reach subgraph `name` directly: its `url`, or `http://<listen>`.
    pub fn subgraph_url(&self, name: &str) -> url::Url {
        let sub = self.subgraph(name);
        sub.url.clone().unwrap_or_else(|| {
            url::Url::parse(&format!("http://{}/", sub.listen)).expect("a socket address makes a valid URL")
        })
    }
}

/// One problem, as a person fixes it: the key (lower case, dotted), what is wrong, and where the
/// value came from: the file, or the exact environment variable.
fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".").to_lowercase();
    let origin = match &e.metadata {
        Some(md) => match &md.source {
            Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
            // figment names env keys by path; name the variable a person actually sets.
            _ if md.name.contains("TESSERA_") && !e.path.is_empty() => {
                format!(" (from the environment variable TESSERA_{})", e.path.join("__").to_uppercase())
            }
            _ if md.name.contains("environment") && !e.path.is_empty() => {
                format!(" (from the environment variable {})", e.path.join("__").to_uppercase())
            }
            _ => format!(" (from {})", md.name),
        },
        None => String::new(),
    };
    let key = if key.is_empty() { String::new() } else { format!("`{key}`: ") };
    format!("{key}{}{origin}", e.kind)
}

/// A configuration that cannot be used. The message names the key and its source.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
// figment's `Jail` fixes the closures' error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests;
