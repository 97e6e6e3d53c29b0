//! The notifications subgraph: turns events into in-app notifications, emails and SMS, tracks
//! every delivery (retries, dead letters), and pushes new notifications to `notificationAdded`
//! subscribers through the bus's pub/sub, so a subscriber on another process receives them too.

pub mod channels;
pub mod consumer;
pub mod delivery;
pub mod error;
pub mod graphql;
pub mod message;
pub mod outgoing;
pub mod routing;
pub mod store;
pub mod templates;

use async_graphql::{Schema, SchemaBuilder};
use tessera_kit::{
    Runtime, SubgraphSpec,
    db::Migrations,
    sdl::federation_sdl,
    seal::{Sealer, kept_key},
    server,
};

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

pub type NotificationsSchema = Schema<graphql::Query, graphql::Mutation, graphql::Subscription>;

pub fn schema_builder() -> SchemaBuilder<graphql::Query, graphql::Mutation, graphql::Subscription> {
    server::harden(
        Schema::build(graphql::Query::default(), graphql::Mutation::default(), graphql::Subscription)
            .enable_federation()
            .enable_subscription_in_federation(),
    )
}

/// What the resolvers, the consumer and the worker share.
#[derive(Clone)]
pub struct State {
    pub rt: Runtime,
    /// Seals pending messages (codes, reset links) while they wait to be sent.
    pub sealer: Sealer,
    pub dispatcher: delivery::Dispatcher,
}

impl State {
    /// Opens the seal key and the channels the configuration names.
    pub async fn open(rt: Runtime) -> anyhow::Result<Self> {
        let config = &rt.config;
        let db = rt.db.clone();
        let key =
            kept_key(
                config.delivery.seal_key.as_ref(),
                |fresh| async move { Ok(store::keys::seal_key(&db, fresh).await?) },
            );
        let sealer = Sealer::new(key.await?);
        let mailer = channels::Mailer::new(&config.delivery, &config.data_dir)?;
        let sms = channels::sms_provider(&config.delivery.sms, &config.data_dir)?;
        let dispatcher = delivery::Dispatcher::new(&rt, sealer.clone(), mailer, sms);
        Ok(Self { rt, sealer, dispatcher })
    }
}

pub fn schema(state: State) -> NotificationsSchema {
    schema_builder().data(state.rt.clone()).data(state).finish()
}

pub async fn app(rt: Runtime) -> anyhow::Result<axum::Router> {
    let state = State::open(rt.clone()).await?;
    let events = consumer::Events { state: state.clone() };
    rt.spawn_consumer("notifications", events).await?;
    // Both counts run on `deliveries_by_status (status, id)`, at each scrape.
    rt.metrics.sql_gauge(
        "delivery_queue_depth",
        "Messages waiting for their first or next attempt",
        "SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'",
    );
    rt.metrics.sql_gauge(
        "delivery_dead_letters",
        "Messages that failed every attempt (FAILED: listed by the admin query deliveries)",
        "SELECT COUNT(*) FROM deliveries WHERE status = 'FAILED'",
    );
    rt.retain(retention_rules(), vec![(rt.data_dir().join("mail"), "eml")]);
    tokio::spawn(state.dispatcher.clone().run(rt.stop.clone()));
    Ok(server::subgraph_app(&rt, schema(state)))
}

/// The delivery log: sent and dead-lettered rows older than `retention.delivery_log_days`.
/// Pending ones are never swept (they still have to go out); in-app notifications are the
/// user's own history and stay until the account is deleted.
pub fn retention_rules() -> Vec<tessera_kit::retention::Rule> {
    vec![tessera_kit::retention::Rule {
        table: "deliveries",
        delete: "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE status <> 'PENDING' \
                 AND created_at < $1 LIMIT $2)",
        days: |c| c.delivery_log_days,
        unit: tessera_kit::retention::Unit::Millis,
    }]
}

/// The bus topic carrying one user's new notifications.
pub fn user_topic(user_id: uuid::Uuid) -> String {
    format!("notifications:{user_id}")
}

/// Stores an in-app notification and pushes it to the user's live subscriptions at once, without
/// the delivery log (tests and tools; events go through [`outgoing::queue`]).
pub async fn deliver_in_app(rt: &Runtime, n: &store::Notification) -> anyhow::Result<()> {
    let mut tx = rt.db.begin().await?;
    store::notifications::insert(&mut tx, n).await?;
    tx.commit().await?;
    rt.bus.publish_topic(&user_topic(n.user_id), &serde_json::to_string(n)?).await
}
