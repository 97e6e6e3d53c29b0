//! The products subgraph: the catalogue (search, filters, keyset lists), admin changes under
//! optimistic locking, and the stock reservations the orders subgraph makes.

pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod loader;
pub mod seed;
pub mod settle;
pub mod store;
pub mod sweep;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use tessera_kit::{Runtime, SubgraphSpec, db::Migrations, sdl::federation_sdl, server};

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("../../migrations/products/sqlite"),
    postgres: sqlx::migrate!("../../migrations/products/postgres"),
};

pub const SPEC: SubgraphSpec = SubgraphSpec {
    name: "products",
    migrations: &MIGRATIONS,
    app: |rt| Box::pin(app(rt)),
    sdl: || federation_sdl(&schema_builder().finish()),
};

pub type ProductsSchema = Schema<graphql::Query, graphql::Mutation, EmptySubscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, graphql::Mutation, EmptySubscription> {
    server::harden(
        Schema::build(graphql::Query::default(), graphql::Mutation::default(), EmptySubscription).enable_federation(),
    )
}

pub fn schema(rt: Runtime) -> ProductsSchema {
    schema_builder().data(loader::products(&rt.db)).data(rt).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    seed::demo(&rt).await?;
    tokio::spawn(sweep::run(rt.clone()));
    Ok(server::subgraph_app(&rt, schema(rt.clone())))
}
