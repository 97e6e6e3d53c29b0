//! The auth subgraph: accounts, credentials, sessions, one-time codes, MFA, roles, the audit
//! trail and the signing keys behind every access token. See docs/auth.md.

pub mod audit;
pub mod bootstrap;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod keys;
pub mod loader;
pub mod oauth;
pub mod store;
pub mod tokens;
pub mod vault;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use axum::{
    Json, Router,
    routing::{get, post},
};
use tessera_kit::{Runtime, SubgraphSpec, db::Migrations, sdl::federation_sdl, server};

pub use credentials::hasher::Hasher;
pub use domain::secret::CodeKey;
pub use keys::KeyRing;

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("../../migrations/auth/sqlite"),
    postgres: sqlx::migrate!("../../migrations/auth/postgres"),
};

pub const SPEC: SubgraphSpec = SubgraphSpec {
    name: "auth",
    migrations: &MIGRATIONS,
    app: |rt| Box::pin(app(rt)),
    sdl: || federation_sdl(&schema_builder().finish()),
};

pub type AuthSchema = Schema<graphql::Query, graphql::Mutation, EmptySubscription>;

/// What resolvers reach through the GraphQL context.
#[derive(Clone)]
pub struct State {
    pub rt: Runtime,
    pub keys: KeyRing,
    pub hasher: Hasher,
    pub code_key: CodeKey,
    /// The data key that TOTP secrets (and seeds, and the code key) rest sealed under.
    pub vault: tessera_kit::seal::Sealer,
}

impl State {
    /// Loads (or creates) the keys and builds the hasher from the identity configuration.
    pub async fn open(rt: Runtime) -> anyhow::Result<Self> {
        let policy = &rt.config.identity;
        let vault = vault::open(&rt).await?;
        let keys = KeyRing::load_or_create(&rt.db, &vault, policy.access_token_seconds).await?;
        let hasher = Hasher::new(
            policy.argon2_memory_kib,
            policy.argon2_iterations,
            policy.max_concurrent_hashes(),
            policy.hash_queue,
        )?;
        let (db, sealer) = (rt.db.clone(), vault.clone());
        let code_key = CodeKey::new(
            tessera_kit::seal::kept_key(policy.code_key.as_ref(), |fresh| async move {
                let context = vault::secret_context("code_key");
                let stored = store::keys::server_secret(&db, "code_key", sealer.seal(&context, &fresh)).await?;
                vault::open_stored(&sealer, &context, &stored, vault::KEY_LEN)
            })
            .await?,
        );
        Ok(Self { rt, keys, hasher, code_key, vault })
    }

    pub fn policy(&self) -> &tessera_kit::config::IdentityConfig {
        &self.rt.config.identity
    }
}

pub fn schema_builder() -> SchemaBuilder<graphql::Query, graphql::Mutation, EmptySubscription> {
    server::harden(Schema::build(graphql::Query::default(), graphql::Mutation::default(), EmptySubscription))
        .enable_federation()
}

pub fn schema(state: State) -> AuthSchema {
    schema_builder().data(loader::Loaders::new(&state.rt.db)).data(state).finish()
}

/// What auth sweeps (epoch seconds): refresh tokens and sessions once the session has ended
/// (rotated tokens stay while it lives, to catch their reuse), expired codes, reset tokens, MFA
/// challenges and trusted devices, spent throttle windows, and the audit trail after its period.
/// Refresh tokens go before their sessions: the first rule finds them through the session.
pub fn retention_rules() -> Vec<tessera_kit::retention::Rule> {
    use tessera_kit::retention::{Rule, Unit::Seconds};
    vec![
        Rule {
            table: "refresh_tokens",
            delete: "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT t.token_hash FROM refresh_tokens t \
                     JOIN sessions s ON s.id = t.session_id WHERE s.expires_at < $1 OR s.revoked_at < $1 LIMIT $2)",
            days: |c| c.sessions_days,
            unit: Seconds,
        },
        Rule {
            table: "sessions",
            delete: "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 \
                     OR revoked_at < $1 LIMIT $2)",
            days: |c| c.sessions_days,
            unit: Seconds,
        },
        Rule {
            table: "one_time_codes",
            delete: "DELETE FROM one_time_codes WHERE id IN (SELECT id FROM one_time_codes WHERE expires_at < $1 LIMIT $2)",
            days: |c| c.codes_days,
            unit: Seconds,
        },
        Rule {
            table: "reset_tokens",
            delete: "DELETE FROM reset_tokens WHERE token_hash IN (SELECT token_hash FROM reset_tokens \
                     WHERE expires_at < $1 LIMIT $2)",
            days: |c| c.codes_days,
            unit: Seconds,
        },
        Rule {
            table: "mfa_challenges",
            delete: "DELETE FROM mfa_challenges WHERE token_hash IN (SELECT token_hash FROM mfa_challenges \
                     WHERE expires_at < $1 LIMIT $2)",
            days: |c| c.codes_days,
            unit: Seconds,
        },
        Rule {
            table: "trusted_devices",
            delete: "DELETE FROM trusted_devices WHERE token_hash IN (SELECT token_hash FROM trusted_devices \
                     WHERE expires_at < $1 LIMIT $2)",
            days: |c| c.codes_days,
            unit: Seconds,
        },
        Rule {
            table: "throttles",
            delete: "DELETE FROM throttles WHERE key IN (SELECT key FROM throttles WHERE window_start < $1 LIMIT $2)",
            days: |c| c.codes_days,
            unit: Seconds,
        },
        Rule {
            table: "security_events",
            delete: "DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE occurred_at < $1 LIMIT $2)",
            days: |c| c.audit_days,
            unit: Seconds,
        },
    ]
}

/// The app: the standard GraphQL routes plus `/.well-known/jwks.json`. Starts key rotation
/// (when scheduled) and creates the bootstrap admin (when configured).
pub async fn app(rt: Runtime) -> anyhow::Result<Router> {
    let state = State::open(rt.clone()).await?;
    rt.metrics.register(Box::new(audit::EVENTS.clone()));
    rt.metrics.register(Box::new(credentials::hasher::ABANDONED.clone()));
    rt.retain(retention_rules(), vec![]);
    bootstrap::admin_from_config(&state).await?;
    keys::spawn_maintenance(&state);
    let jwks = state.keys.clone();
    let clients = oauth::Clients::load(state.clone())?;
    // Beside the GraphQL routes, with request ids and spans of their own (the kit's layers wrap
    // only the routes it builds); `/oauth/token` caps its body itself.
    let extra = Router::new()
        .route("/.well-known/jwks.json", get(move || async move { Json(jwks.jwks()) }))
        .route("/oauth/token", post(oauth::token).with_state(clients));
    Ok(server::subgraph_app(&rt, schema(state)).merge(tessera_kit::telemetry::with_request_ids(extra)))
}
