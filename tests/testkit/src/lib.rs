//! Starts Tessera subgraphs and the router on port 0, each with a fresh database, so tests run in
//! parallel and leave nothing behind. The backend follows the environment, which lets one test
//! suite run on both backend pairs:
//! - a temporary SQLite file per subgraph and the in-process bus by default;
//! - a freshly created PostgreSQL database per subgraph when `TEST_POSTGRES_URL` is set;
//! - the Redis bus, under a namespace of its own, when `TEST_REDIS_URL` is set.

pub mod client;
pub mod db;
pub mod fault_proxy;
pub mod fixture;
pub mod incremental;
pub mod orders;
pub mod redis_server;
pub mod scenario;
pub mod smtp;
pub mod stack;
pub mod tokens;
pub mod ws;

pub use client::{graphql, graphql_with};
pub use db::{TestDb, fresh_db};
pub use stack::{TestStack, TestSubgraph, spawn_configured, spawn_stack, spawn_subgraphs};
pub use tokens::{claims_for, service_token};

/// A bus for one test: Redis under a unique namespace when `TEST_REDIS_URL` is set, else in-process.
pub async fn test_bus() -> tessera_kit::bus::Bus {
    let url = std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty());
    let namespace = format!("test-{}", uuid::Uuid::now_v7().simple());
    tessera_kit::bus::Bus::connect(url.as_deref(), &namespace)
        .await
        .expect("TEST_REDIS_URL must point at a running Redis")
}

/// Polls `check` until it returns true, for at most 10 s; panics naming `what` otherwise.
/// For effects that happen asynchronously (events, pushes); the bound only stops a broken test.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}
