//! The users subgraph: profiles and preferences, joined to auth's part of the `User` entity by the
//! router, and the root of `exportMyData`. Auth owns identity and credentials; this subgraph owns
//! the person's profile and settings. See docs/users.md.

pub mod consumer;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod loader;
pub mod store;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use tessera_kit::{Runtime, SubgraphSpec, db::Migrations, sdl::federation_sdl, server};

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("../../migrations/users/sqlite"),
    postgres: sqlx::migrate!("../../migrations/users/postgres"),
};

pub const SPEC: SubgraphSpec = SubgraphSpec {
    name: "users",
    migrations: &MIGRATIONS,
    app: |rt| Box::pin(app(rt)),
    sdl: || federation_sdl(&schema_builder().finish()),
};

pub type UsersSchema = Schema<graphql::Query, graphql::Mutation, EmptySubscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, graphql::Mutation, EmptySubscription> {
    server::harden(
        Schema::build(graphql::Query::default(), graphql::Mutation::default(), EmptySubscription).enable_federation(),
    )
}

pub fn schema(rt: Runtime) -> UsersSchema {
    schema_builder().data(loader::profiles(&rt.db)).data(loader::preferences(&rt.db)).data(rt).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    rt.spawn_consumer("users", consumer::Events).await?;
    rt.retain(vec![], vec![]);
    Ok(server::subgraph_app(&rt, schema(rt.clone())))
}
