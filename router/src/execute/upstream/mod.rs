//! The router's side of subscriptions toward the subgraph that owns the root field, over
//! graphql-transport-ws. The transport-neutral subscription core (`crate::subscription`) drives
//! it; it sits with the other subgraph clients.
//!
//! One connection per subgraph endpoint and caller carries all of that caller's subscriptions
//! to it, each under its own operation id, as Hive Router does: a user with five different
//! subscriptions open holds one socket to the subgraph, not five. (Identical subscriptions of one
//! caller already share one upstream subscription, `crate::feed`.) Callers never share a
//! connection: it is keyed by the endpoint and the caller's verified token, which rides in its
//! `connection_init`. Anonymous subscriptions share one, as they carry no identity.
//!
//! A connection closes when its last subscription ends. When it is lost, each of its
//! subscriptions hears so and reconnects on its own (the first to come back opens the new
//! connection, the others join it).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use serde_json::Value;
use tokio::sync::mpsc;

use self::connection::Connection;

mod connection;

/// Events a subscription may have waiting before its connection waits for it.
const QUEUE: usize = 16;

/// What the upstream subscription produced.
#[derive(Debug)]
pub enum Upstream {
    /// One event: a GraphQL response (`data`, `errors`). Boxed: a `Value` is 72 bytes, and each
    /// subscription's queue reserves room for 32 of these at once.
    Next(Box<Value>),
    /// The subgraph refused or ended the operation with errors.
    Error(Vec<Value>),
    Complete,
    /// The connection dropped (subgraph restarting, network): worth reconnecting.
    Lost(String),
}

/// Which connection a subscription rides: a digest of the endpoint and the caller's token (the
/// registry holds no token; SHA-256, so two callers cannot collide into one connection).
type Key = crate::cache_key::Digest;

fn key(url: &url::Url, token: Option<&str>) -> Key {
    match token {
        Some(token) => {
            crate::cache_key::Digest::of(&[b"upstream", url.as_str().as_bytes(), b"token", token.as_bytes()])
        }
        None => crate::cache_key::Digest::of(&[b"upstream", url.as_str().as_bytes()]),
    }
}

enum Command {
    /// Boxed: a connection's inbox reserves room for 32 commands at a time.
    Subscribe(Box<Subscribe>),
    Unsubscribe(u64),
}

struct Subscribe {
    id: u64,
    query: String,
    variables: Value,
    events: mpsc::Sender<Upstream>,
}

/// Each open connection's inbox, and a number that tells it from a later one under the same key.
type Registry = Arc<Mutex<HashMap<Key, (u64, mpsc::UnboundedSender<Command>)>>>;

/// The open upstream connections, by endpoint and caller.
pub struct Upstreams {
    open: Registry,
    next_id: AtomicU64,
    /// Most bytes of one message from a subgraph (`router.limits.max_response_bytes`).
    limit: usize,
    /// Upstream websockets open now.
    connections: prometheus::IntGauge,
}

/// One subscription on an upstream connection. Dropping it ends the operation on the subgraph
/// (and the connection with its last operation).
pub struct Subscription {
    events: mpsc::Receiver<Upstream>,
    id: u64,
    commands: mpsc::UnboundedSender<Command>,
}

impl Subscription {
    /// The next event; None when the connection ended without saying why.
    pub async fn recv(&mut self) -> Option<Upstream> {
        self.events.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // A connection that has ended has nothing left to end.
        let _ = self.commands.send(Command::Unsubscribe(self.id));
    }
}

impl Upstreams {
    pub fn new(limit: usize, connections: prometheus::IntGauge) -> Self {
        Self { open: Registry::default(), next_id: AtomicU64::new(1), limit, connections }
    }

    /// Subscribes `query` at `url` for the caller holding `token`, on the caller's connection to
    /// that endpoint (opened now if there is none).
    pub fn subscribe(&self, url: &url::Url, token: Option<Arc<str>>, query: String, variables: Value) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (events, rx) = mpsc::channel(QUEUE);
        let mut command = Command::Subscribe(Box::new(Subscribe { id, query, variables, events }));
        let key = key(url, token.as_deref());
        let mut open = self.open.lock().expect("upstream registry lock poisoned");
        loop {
            let commands = match open.get(&key) {
                Some((_, commands)) => commands.clone(),
                None => {
                    let (commands, inbox) = mpsc::unbounded_channel();
                    let serial = self.next_id.fetch_add(1, Ordering::Relaxed);
                    open.insert(key, (serial, commands.clone()));
                    let connection = Connection {
                        serial,
                        key,
                        url: url.clone(),
                        token: token.clone(),
                        registry: self.open.clone(),
                        inbox,
                        operations: HashMap::new(),
                        limit: self.limit,
                        gauge: self.connections.clone(),
                    };
                    tokio::spawn(connection.run());
                    commands
                }
            };
            // Sent under the registry's lock: a connection leaves the registry under it too, so
            // one that is still listed takes this command.
            match commands.send(command) {
                Ok(()) => return Subscription { events: rx, id, commands },
                Err(mpsc::error::SendError(back)) => {
                    // It ended without leaving (lost, not closed): open another.
                    open.remove(&key);
                    command = back;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
