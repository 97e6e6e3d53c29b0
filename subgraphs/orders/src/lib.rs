//! The orders subgraph: orders and their items. This crate holds the foundation (tables, the
//! `Order` entity, owner-only reads); placing orders, stock reservation and idempotency arrive
//! with the orders issue.

pub mod consumer;
pub mod error;
pub mod graphql;
pub mod store;

use async_graphql::{EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
use tessera_kit::{Runtime, SubgraphSpec, bus::inbox, db::Migrations, sdl::federation_sdl, server};

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

pub type OrdersSchema = Schema<graphql::Query, EmptyMutation, EmptySubscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, EmptyMutation, EmptySubscription> {
    server::harden(Schema::build(graphql::Query, EmptyMutation, EmptySubscription).enable_federation())
}

pub fn schema(rt: Runtime) -> OrdersSchema {
    schema_builder().data(rt).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    inbox::spawn_consumer(&rt.bus, rt.db.clone(), "orders", consumer::Events, rt.stop.clone()).await?;
    Ok(server::subgraph_app(&rt, schema(rt.clone())))
}
