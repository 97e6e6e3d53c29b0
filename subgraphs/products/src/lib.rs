//! The products subgraph: the catalogue, prices and stock. This crate holds the foundation (the
//! table and the `Product` entity); catalogue management arrives with its own issue.

pub mod error;
pub mod graphql;
pub mod store;

use async_graphql::{EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
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

pub type ProductsSchema = Schema<graphql::Query, EmptyMutation, EmptySubscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, EmptyMutation, EmptySubscription> {
    server::harden(Schema::build(graphql::Query, EmptyMutation, EmptySubscription).enable_federation())
}

pub fn schema(rt: Runtime) -> ProductsSchema {
    schema_builder().data(rt).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    Ok(server::subgraph_app(&rt, schema(rt.clone())))
}
