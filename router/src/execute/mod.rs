//! Executing a query plan against the subgraphs.
//!
//! The plan's nodes are walked over one shared response tree. A fetch reads what it needs from
//! the tree (entity representations) under a short lock, sends its request without holding the
//! lock, then merges the answer back under the lock. So `Parallel` children really run
//! concurrently, and a later node in a `Sequence` sees what earlier ones merged.

mod body;
mod client;
mod entities;
mod entity_errors;
mod fetch;
mod merge;
mod path;
mod representation;
mod tls;
mod transport;

pub(crate) use tls::client_config as subgraph_tls;
pub mod upstream;

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, AtomicUsize, Ordering},
};

use futures::future::{BoxFuture, join_all};
use hive_router_query_planner::{
    planner::plan_nodes::{PlanNode, QueryPlan},
    state::supergraph_state::SupergraphState,
};
use serde_json::{Map, Value};

pub use client::{SubgraphClient, SubgraphFailure};
pub use fetch::Forward;

use crate::{data::Data, error::RouterError};

/// What executing a plan produced: the merged (not yet projected) data, and errors with the
/// client's paths.
pub struct Outcome {
    pub data: Data,
    pub errors: Vec<Value>,
    /// How long the whole answer may be cached: the smallest public `max-age` of all its
    /// subgraph answers; None if any answer had none (or nothing was fetched).
    pub max_age: Option<u64>,
    /// The entities the answer holds (the union of its subgraph answers' `Cache-Tag`s), which
    /// the response cache drops it by.
    pub tags: Vec<String>,
}

/// One execution of one plan.
pub(crate) struct Run<'a> {
    client: &'a SubgraphClient,
    /// The supergraph's types: which objects implement an interface (entity representations
    /// of an `@interfaceObject` are projected through the interface's type condition).
    state: &'a SupergraphState,
    variables: &'a Map<String, Value>,
    forward: &'a Forward,
    data: Mutex<Data>,
    errors: Mutex<Vec<Value>>,
    /// `Some(u64::MAX)` until the first answer; None once any answer is uncacheable.
    max_age: Mutex<Option<u64>>,
    /// The entity tags of the answers so far.
    tags: Mutex<Vec<String>>,
    /// Bytes of subgraph answers taken in so far, against the client's `max_response_bytes`.
    bytes: AtomicUsize,
    /// Merges into `data` so far that replaced an object or a list (`merge::deep_merge`),
    /// counted under its lock: while there was none, the positions an entity fetch recorded
    /// when it collected its objects still lead to them (`entities.rs`).
    reshapes: AtomicU64,
}

/// Runs `plan` with `variables`, forwarding `forward` to each subgraph.
pub async fn execute(
    client: &SubgraphClient,
    state: &SupergraphState,
    plan: &QueryPlan,
    variables: &Map<String, Value>,
    forward: &Forward,
) -> Outcome {
    execute_from(client, state, plan, variables, forward, Data::object(), Vec::new()).await
}

/// Runs `plan` starting from `data` (a subscription event from the primary subgraph): the
/// `Subscription` node is already satisfied, everything after it (entity fetches for fields of
/// other subgraphs) runs as usual.
pub async fn execute_from(
    client: &SubgraphClient,
    state: &SupergraphState,
    plan: &QueryPlan,
    variables: &Map<String, Value>,
    forward: &Forward,
    data: Data,
    errors: Vec<Value>,
) -> Outcome {
    let run = Run {
        client,
        state,
        variables,
        forward,
        data: Mutex::new(data),
        errors: Mutex::new(errors),
        max_age: Mutex::new(Some(u64::MAX)),
        tags: Mutex::new(Vec::new()),
        bytes: AtomicUsize::new(0),
        reshapes: AtomicU64::new(0),
    };
    if let Some(node) = &plan.node {
        run.node(node, None).await;
    }
    let max_age = run.max_age.into_inner().expect("cache lock poisoned").filter(|age| *age != u64::MAX);
    let mut tags = run.tags.into_inner().expect("cache lock poisoned");
    tags.sort_unstable();
    tags.dedup();
    Outcome {
        data: run.data.into_inner().expect("data lock poisoned"),
        errors: run.errors.into_inner().expect("errors lock poisoned"),
        max_age,
        tags,
    }
}

impl<'a> Run<'a> {
    fn node<'b>(
        &'b self,
        node: &'b PlanNode,
        flatten: Option<&'b hive_router_query_planner::planner::plan_nodes::FlattenNodePath>,
    ) -> BoxFuture<'b, ()> {
        Box::pin(async move {
            match node {
                PlanNode::Fetch(fetch) => match (flatten, &fetch.requires) {
                    (Some(path), Some(_)) => self.entity_fetch(&entities::EntityFetch::single(fetch, path)).await,
                    _ => self.root_fetch(fetch).await,
                },
                PlanNode::BatchFetch(batch) => self.entity_fetch(&entities::EntityFetch::batch(batch)).await,
                PlanNode::Sequence(seq) => {
                    for child in &seq.nodes {
                        self.node(child, None).await;
                    }
                }
                PlanNode::Parallel(par) => {
                    join_all(par.nodes.iter().map(|child| self.node(child, None))).await;
                }
                PlanNode::Flatten(f) => self.node(&f.node, Some(&f.path)).await,
                PlanNode::Condition(c) => {
                    let on = self.variables.get(&c.condition).and_then(Value::as_bool).unwrap_or(false);
                    let branch = if on { &c.if_clause } else { &c.else_clause };
                    if let Some(branch) = branch {
                        self.node(branch, None).await;
                    }
                }
                // Its event seeded the data already (see `execute_from`).
                PlanNode::Subscription(_) => {}
                PlanNode::Defer(_) => self.error(RouterError::OperationNotSupported("@defer").graphql()),
            }
        })
    }

    /// Folds one subgraph answer's cache hint and tags into the run's. An answer with more tags
    /// than are kept makes the whole response uncacheable: it could not be dropped in time.
    fn cache_hint(&self, answer: &client::Answer) {
        let max_age = match &answer.tags {
            client::Tags::TooMany => None,
            client::Tags::None => answer.max_age,
            client::Tags::Listed(tags) => {
                self.tags.lock().expect("cache lock poisoned").extend(tags.iter().cloned());
                answer.max_age
            }
        };
        let mut current = self.max_age.lock().expect("cache lock poisoned");
        *current = current.and_then(|c| max_age.map(|a| c.min(a)));
    }

    /// Reshaping merges into the data so far; read under the data lock.
    fn reshapes(&self) -> u64 {
        self.reshapes.load(Ordering::Relaxed)
    }

    /// Counts a merge that replaced an object or a list; call under the data lock.
    fn reshaped(&self) {
        self.reshapes.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an answer of `bytes` against the request's bound. Past it, the answer is dropped
    /// (not merged) and one `MAX_RESPONSE_SIZE_EXCEEDED` error says why, at `path`.
    fn take_bytes(&self, bytes: usize, path: impl FnOnce() -> Option<Vec<Value>>) -> bool {
        let limit = self.client.max_response_bytes();
        let before = self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) <= limit {
            return true;
        }
        if before <= limit {
            let error = RouterError::MaxResponseSize { limit };
            self.error(path().map_or_else(|| error.graphql(), |p| error.at(p)));
        }
        false
    }

    fn error(&self, error: Value) {
        self.errors.lock().expect("errors lock poisoned").push(error);
    }
}

/// Shared, so request handlers can hold it cheaply.
pub type SharedClient = Arc<SubgraphClient>;
