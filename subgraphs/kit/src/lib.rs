//! The code every Tessera subgraph shares, written once: configuration, the database and bus
//! enums, the outbox and inbox, JWT verification, identity guards, SDL export, error codes,
//! telemetry and the axum wiring. See DESIGN.md for the decisions behind each.

pub mod bus;
pub mod cache_tags;
pub mod client;
pub mod config;
pub mod db;
pub mod erasure;
pub mod error;
pub mod identity;
pub mod input;
pub mod jwt;
pub mod lines;
pub mod mask;
pub mod metrics;
pub mod money;
pub mod paging;
pub mod resilience;
pub mod retention;
pub mod sdl;
pub mod seal;
pub mod server;
pub mod service_auth;
pub mod service_client;
pub mod sockets;
pub mod subgraph;
pub mod telemetry;

pub use error::{ApiError, ErrorCode};
pub use subgraph::{Runtime, SubgraphSpec};

/// Re-exported so subgraphs and tests name one version.
pub use tokio_util::sync::CancellationToken;
