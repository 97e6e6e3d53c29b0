//! The `tessera` binary's library: the CLI, the launcher that runs the whole stack in one process,
//! and the SDL export. Tests use [`SUBGRAPHS`] to start the same stack.

pub mod admin;
pub mod cli;
pub mod compose;
pub mod health;
pub mod launch;
pub mod web;

use tessera_kit::SubgraphSpec;

/// The five subgraphs, in start order (auth first: everyone verifies against its JWKS).
pub const SUBGRAPHS: [SubgraphSpec; 5] = [
    tessera_auth::SPEC,
    tessera_users::SPEC,
    tessera_products::SPEC,
    tessera_orders::SPEC,
    tessera_notifications::SPEC,
];

/// A subgraph by name.
pub fn subgraph(name: &str) -> Option<SubgraphSpec> {
    SUBGRAPHS.into_iter().find(|s| s.name == name)
}
