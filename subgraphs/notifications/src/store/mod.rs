//! The notifications subgraph's SQL, and nothing else: one file per table.

pub mod deliveries;
pub mod keys;
pub mod notifications;
pub mod recipients;

pub use notifications::Notification;
