//! Calling what may fail: circuit breakers and jittered backoff, used by the router's subgraph
//! client and by the service client subgraphs call each other with.

mod backoff;
mod breaker;

pub use backoff::delay;
pub use breaker::Breaker;
