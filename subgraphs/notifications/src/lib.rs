//! The notifications subgraph: in-app notifications, email and SMS, and the `notificationAdded`
//! subscription. This crate holds the foundation (the table, the unread count, the subscription
//! fed by the bus); the consumers and delivery channels arrive with the notifications issue.

pub mod consumer;
pub mod error;
pub mod graphql;
pub mod store;

use async_graphql::{EmptyMutation, Schema, SchemaBuilder};
use tessera_kit::{Runtime, SubgraphSpec, bus::inbox, db::Migrations, sdl::federation_sdl, server};

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("../../migrations/notifications/sqlite"),
    postgres: sqlx::migrate!("../../migrations/notifications/postgres"),
};

pub const SPEC: SubgraphSpec = SubgraphSpec {
    name: "notifications",
    migrations: &MIGRATIONS,
    app: |rt| Box::pin(app(rt)),
    sdl: || federation_sdl(&schema_builder().finish()),
};

pub type NotificationsSchema = Schema<graphql::Query, EmptyMutation, graphql::Subscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, EmptyMutation, graphql::Subscription> {
    server::harden(
        Schema::build(graphql::Query, EmptyMutation, graphql::Subscription)
            .enable_federation()
            .enable_subscription_in_federation(),
    )
}

pub fn schema(rt: Runtime) -> NotificationsSchema {
    schema_builder().data(rt).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    inbox::spawn_consumer(&rt.bus, rt.db.clone(), "notifications", consumer::Events, rt.stop.clone()).await?;
    Ok(server::subgraph_app(&rt, schema(rt.clone())))
}

/// The bus topic carrying one user's new notifications.
pub fn user_topic(user_id: uuid::Uuid) -> String {
    format!("notifications:{user_id}")
}

/// Stores an in-app notification and pushes it to the user's live subscriptions. The push goes
/// through the bus, so a subscriber connected to another process receives it too.
pub async fn deliver_in_app(rt: &Runtime, n: &store::Notification) -> anyhow::Result<()> {
    store::insert(&rt.db, n).await?;
    rt.bus.publish_topic(&user_topic(n.user_id), &serde_json::to_string(n)?).await
}
