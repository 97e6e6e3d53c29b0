//! The auth subgraph: accounts, credentials, sessions and the signing keys behind every access
//! token. This crate holds the foundation (keys, JWKS, token validation, the `User` entity);
//! registration, login and the rest arrive with the auth issue.

pub mod error;
pub mod graphql;
pub mod keys;
pub mod store;

use async_graphql::{EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
use axum::{Json, Router, routing::get};
use tessera_kit::{Runtime, SubgraphSpec, db::Migrations, sdl::federation_sdl, server};

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

pub type AuthSchema = Schema<graphql::Query, EmptyMutation, EmptySubscription>;

/// What resolvers reach through the GraphQL context.
#[derive(Clone)]
pub struct State {
    pub rt: Runtime,
    pub keys: KeyRing,
}

pub fn schema_builder() -> SchemaBuilder<graphql::Query, EmptyMutation, EmptySubscription> {
    server::harden(Schema::build(graphql::Query, EmptyMutation, EmptySubscription).enable_federation())
}

pub fn schema(state: State) -> AuthSchema {
    schema_builder().data(state).finish()
}

/// The app: the standard GraphQL routes plus `/.well-known/jwks.json`.
pub async fn app(rt: Runtime) -> anyhow::Result<Router> {
    let keys = KeyRing::load_or_create(&rt.db).await?;
    let jwks = keys.clone();
    let state = State { rt: rt.clone(), keys };
    Ok(server::subgraph_app(&rt, schema(state))
        .route("/.well-known/jwks.json", get(move || async move { Json(jwks.jwks()) })))
}
