//! What it takes to run a subgraph, the same way for all five: a [`Runtime`] (database, bus,
//! verifier, outbox relay, stop signal) and a [`SubgraphSpec`] that turns it into an axum app.
//! `tessera dev`, `tessera serve` and the testkit all start subgraphs through here.

use std::{path::Path, sync::Arc};

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{Bus, outbox::Relay},
    config::Config,
    db::{Db, Migrations},
    jwt::{JwtVerifier, Revocations, revocations::spawn_consumer},
    seal::Sealer,
};

/// A subgraph, described for whoever starts it.
#[derive(Clone, Copy)]
pub struct SubgraphSpec {
    pub name: &'static str,
    pub migrations: &'static Migrations,
    /// Builds the app: registers the subgraph's event consumers (before returning) and returns
    /// its routes. Does not start the relay: [`Runtime::spawn_relay`] does, once every
    /// subgraph in the process has registered its consumers.
    pub app: fn(Runtime) -> BoxFuture<'static, anyhow::Result<axum::Router>>,
    /// The federation SDL, built without a database.
    pub sdl: fn() -> String,
}

/// The subgraph's database as configured: PostgreSQL if it has a `database_url`, else the
/// SQLite file `<data_dir>/<name>.db`.
pub async fn open_db(name: &str, config: &Config) -> anyhow::Result<Db> {
    let sub = config.subgraph(name);
    match &sub.database_url {
        Some(url) => Db::connect_url(url.expose(), sub.pool_size).await,
        None => Db::sqlite_file(&config.data_dir.join(format!("{name}.db")), sub.pool_size).await,
    }
}

/// Everything a running subgraph holds. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    pub name: &'static str,
    pub config: Arc<Config>,
    pub db: Db,
    pub bus: Bus,
    pub verifier: Arc<JwtVerifier>,
    /// Revoked sessions and users, applied from the bus (the verifier consults them).
    pub revocations: Arc<Revocations>,
    pub relay: Relay,
    /// Seals the secret fields of the events this subgraph emits, and opens those it consumes.
    pub bus_seal: Sealer,
    /// Cancelled when the process shuts down; background tasks watch it.
    pub stop: CancellationToken,
    /// This subgraph's Prometheus series, served on its `/metrics`.
    pub metrics: Arc<crate::metrics::SubgraphMetrics>,
}

impl Runtime {
    /// Opens the subgraph's database (see [`open_db`]) and applies its migrations.
    pub async fn open(
        spec: &SubgraphSpec,
        config: Arc<Config>,
        bus: Bus,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        let db = open_db(spec.name, &config).await?;
        Self::with_db(spec, config, db, bus, stop).await
    }

    /// Like [`Runtime::open`] with a database the caller made (tests: a fresh one per test).
    pub async fn with_db(
        spec: &SubgraphSpec,
        config: Arc<Config>,
        db: Db,
        bus: Bus,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        db.migrate(spec.migrations).await.map_err(|e| anyhow::anyhow!("migrating {}: {e:#}", spec.name))?;
        // Every subgraph honours revocations as the router does: a request that bypasses the
        // router with a revoked session's token gains nothing.
        let lifetime = std::time::Duration::from_secs(config.identity.access_token_seconds.max(1).unsigned_abs());
        let revocations = Revocations::new(lifetime);
        spawn_consumer(&bus, Arc::downgrade(&revocations), lifetime);
        let verifier = Arc::new(
            JwtVerifier::new(&config.jwt, config.jwks_url())
                .for_subgraph(&config.jwt.audience, spec.name)
                .with_revocations(revocations.clone()),
        );
        let relay = Relay::new(db.clone(), bus.clone());
        let bus_seal = bus_sealer(&config).await?;
        let metrics = Arc::new(crate::metrics::SubgraphMetrics::new(spec.name));
        Ok(Self { name: spec.name, config, db, bus, verifier, revocations, relay, bus_seal, stop, metrics })
    }

    /// Starts publishing the outbox until `stop`, then flushes what is pending once more.
    /// Give it a token cancelled after the servers have drained, so rows committed by the last
    /// in-flight requests still go out.
    pub fn spawn_relay(&self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.relay.clone().run(stop))
    }

    /// Subscribes this subgraph's consumer of domain events (see
    /// [`crate::bus::inbox::spawn_consumer`]), counted in its metrics.
    pub async fn spawn_consumer<H: crate::bus::inbox::Handler>(
        &self,
        consumer: &'static str,
        handler: H,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        crate::bus::inbox::spawn_observed_consumer(
            &self.bus,
            self.db.clone(),
            consumer,
            handler,
            self.stop.clone(),
            Some(self.metrics.clone()),
        )
        .await
    }

    /// Starts this subgraph's retention sweep: the kit's tables (outbox, inbox) and `rules` for
    /// its own, and the files of `sinks` (a directory and an extension: development sinks).
    pub fn retain(&self, rules: Vec<crate::retention::Rule>, sinks: Vec<(std::path::PathBuf, &'static str)>) {
        let mut all = crate::retention::kit_rules();
        all.extend(rules);
        crate::retention::spawn(
            self.db.clone(),
            all,
            sinks,
            self.config.retention.clone(),
            self.metrics.clone(),
            self.stop.clone(),
        );
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }
}

/// The bus key: configured, else kept in the data directory. Processes on several machines
/// (Redis, in production) cannot share a file, and a key each would leave every code unreadable
/// to the notifications subgraph, so there it must be configured.
async fn bus_sealer(config: &Config) -> anyhow::Result<Sealer> {
    let production = config.profile == crate::config::Profile::Production;
    if production && config.redis_url.is_some() && config.bus.seal_key.is_none() {
        anyhow::bail!(
            "set bus.seal_key (TESSERA_BUS__SEAL_KEY): with Redis, every process must seal and open events under one key"
        );
    }
    let key = crate::seal::key_in_file(config.bus.seal_key.as_ref(), &config.data_dir.join("bus-seal.key")).await?;
    Ok(Sealer::new(key))
}
