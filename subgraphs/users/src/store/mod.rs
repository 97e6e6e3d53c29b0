//! The users subgraph's SQL, and nothing else.

pub mod preferences;
pub mod profiles;

pub use profiles::{Profile, count as profile_count};
