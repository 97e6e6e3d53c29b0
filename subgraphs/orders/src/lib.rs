//! The orders subgraph: checkout as a saga against products (DESIGN.md), the life of an order,
//! and owner-only reads.

pub mod consumer;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod loader;
pub mod products;
pub mod saga;
pub mod store;
pub mod sweep;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use tessera_kit::{Runtime, SubgraphSpec, db::Migrations, sdl::federation_sdl, server};

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("../../migrations/orders/sqlite"),
    postgres: sqlx::migrate!("../../migrations/orders/postgres"),
};

pub const SPEC: SubgraphSpec = SubgraphSpec {
    name: "orders",
    migrations: &MIGRATIONS,
    app: |rt| Box::pin(app(rt)),
    sdl: || federation_sdl(&schema_builder().finish()),
};

pub type OrdersSchema = Schema<graphql::Query, graphql::Mutation, EmptySubscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, graphql::Mutation, EmptySubscription> {
    server::harden(
        Schema::build(graphql::Query::default(), graphql::Mutation::default(), EmptySubscription).enable_federation(),
    )
}

pub fn schema(rt: Runtime, products: products::Products) -> OrdersSchema {
    schema_builder().data(loader::items(&rt.db)).data(loader::history(&rt.db)).data(products).data(rt).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    rt.spawn_consumer("orders", consumer::Events).await?;
    let products = products::Products::new(&rt.config)?;
    tokio::spawn(sweep::run(rt.clone(), products.clone()));
    Ok(server::subgraph_app(&rt, schema(rt.clone(), products)))
}
