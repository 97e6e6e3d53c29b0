//! The auth subgraph's SQL, and nothing else. Times the database compares are epoch seconds.

pub mod accounts;
pub mod codes;
pub mod devices;
pub mod directory;
pub mod erasure;
pub mod events;
pub mod keys;
pub mod sessions;
pub mod throttle;

pub use accounts::Account;

/// Now, in the epoch seconds the tables store.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
