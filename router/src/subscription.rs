//! The transport-neutral subscription core. It takes an authorized operation and yields neutral
//! events (next, error, complete); each transport frames them itself (graphql-transport-ws,
//! legacy graphql-ws, multipart HTTP).
//!
//! A subscription opens the upstream subscription on the subgraph that owns its root field
//! (`execute::upstream`), and each event seeds a fresh execution of the rest of the plan, so
//! fields of other subgraphs are resolved per event. The stream ends, whatever the transport:
//! - when the caller's token expires, or their session is revoked (with an `UNAUTHENTICATED`
//!   error that says which);
//! - when the subgraph completes or refuses it;
//! - when the transport drops the receiver (the client left), which also closes the upstream.
//!
//! A query or mutation sent over a subscription transport yields one `Next` and `Complete`.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use hive_router_query_planner::{
    planner::plan_nodes::{FetchNode, PlanNode, QueryPlan},
    state::supergraph_state::OperationKind,
};
use serde_json::{Map, Value};
use tessera_kit::config::InboundDedup;
use tessera_kit::jwt::{Revoked, TokenRef};
use tokio::{
    sync::{broadcast::error::RecvError, mpsc},
    time::Instant,
};

use crate::{
    RouterState,
    cache_key::Digest,
    context::RequestContext,
    error::RouterError,
    execute::upstream::Upstream,
    feed::{FeedEvent, Publisher},
    pipeline::{self, Authorized, respond, respond_to_event},
    supergraph::{Prepared, Supergraph},
};

/// What a running operation produces.
#[derive(Debug)]
pub enum Event {
    /// One result: a GraphQL response (`data`, `errors`) as JSON text, shared by every client
    /// of a feed.
    Next(Bytes),
    /// The operation failed or was ended; nothing follows.
    Error(Vec<Value>),
    /// The operation finished normally; nothing follows.
    Complete,
}

/// Where a running operation's events go: a channel to a transport (multipart), or a transport
/// that frames them itself in the operation's own task (websockets: no task and channel per
/// subscription in between).
pub trait Sink: Sync {
    /// Delivers `event`; false when the client is gone.
    fn send(&self, event: Event) -> impl Future<Output = bool> + Send;
    /// Resolves when the client is gone.
    fn closed(&self) -> impl Future<Output = ()> + Send;
}

impl Sink for mpsc::Sender<Event> {
    async fn send(&self, event: Event) -> bool {
        mpsc::Sender::send(self, event).await.is_ok()
    }

    async fn closed(&self) {
        mpsc::Sender::closed(self).await;
    }
}

/// Runs `op` for `context` in a task of its own and yields its events. Dropping the receiver
/// stops the task and releases the upstream subscription.
pub fn spawn(state: Arc<RouterState>, context: RequestContext, op: Authorized) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move { run(&state, &context, op, &tx).await });
    rx
}

/// Runs `op` for `context` in the caller's task, delivering its events to `sink`. Returns when
/// the operation ends or the sink's client is gone; dropping the future stops it too.
pub async fn run(state: &Arc<RouterState>, context: &RequestContext, op: Authorized, sink: &impl Sink) {
    // Counted for as long as it runs, however it ends (an aborted task included).
    let _counted = (op.kind == OperationKind::Subscription).then(|| {
        state.metrics.ws_subscriptions.inc();
        Counted(&state.metrics.ws_subscriptions)
    });
    run_counted(state, context, op, sink).await;
}

async fn run_counted(state: &Arc<RouterState>, context: &RequestContext, op: Authorized, tx: &impl Sink) {
    let fail = |errors: Vec<Value>| async move {
        tx.send(Event::Error(errors)).await;
    };
    if op.kind != OperationKind::Subscription {
        // Boxed here and below: an `async fn`'s state is as large as its largest await, and this
        // one lives as long as the subscription. Inline, the whole query pipeline's state (and
        // planning's) would sit in every subscriber's task for its lifetime.
        let body = Box::pin(respond(state, op, &context.forward)).await.body;
        if tx.send(Event::Next(body)).await {
            tx.send(Event::Complete).await;
        }
        return;
    }
    if op.to_plan.selection_set.items.is_empty() {
        // The subscription field itself was refused.
        return fail(op.errors).await;
    }
    let plan = match Box::pin(pipeline::plan(state, &op.supergraph, &op.to_plan, op.plan_key)).await {
        Ok(plan) => plan,
        Err(error) => return fail(vec![error.graphql()]).await,
    };
    let Some(primary) = primary_fetch(plan.node.as_ref()) else {
        return fail(vec![RouterError::QueryPlanningFailed.graphql()]).await;
    };
    let service = primary.service_name.to_lowercase();
    let Some(url) = state.subgraphs().ws_url(&service) else {
        let reason = "it has no URL".to_owned();
        return fail(vec![RouterError::SubgraphUnavailable { service, reason }.graphql()]).await;
    };
    let mut end = Ending::new(state, context);
    // Identical subscriptions of one caller share a feed (see `feed`), unless sharing is off.
    let key = match state.inbound_dedup {
        InboundDedup::Off => Digest::of(&[uuid::Uuid::new_v4().as_bytes()]),
        _ => crate::inflight::key(&op.prepared.plan_key, &op.variables, &context.forward),
    };
    // The feed's copy of the operation is made only by the client that starts it.
    let start = |publisher| {
        let used: Map<String, Value> = primary
            .variable_usages
            .iter()
            .flatten()
            .filter_map(|name| Some((name.clone(), op.variables.get(name)?.clone())))
            .collect();
        let spec = Spec {
            supergraph: op.supergraph.clone(),
            plan: plan.clone(),
            prepared: op.prepared.clone(),
            root: op.root.clone(),
            variables: op.variables.clone(),
            errors: op.errors.clone(),
            forward: context.forward.clone(),
            token: context.token.clone(),
            url,
            service,
            query: primary.operation.document_str.clone(),
            used: Value::Object(used),
        };
        tokio::spawn(feed(state.clone(), spec, publisher)).abort_handle()
    };
    let (_feed, mut events, _) = state.feeds.join(key, start);
    loop {
        let event = tokio::select! {
            // The client went away (a dropped response, a closed socket): stop. The feed stops
            // with its last client, which closes the upstream subscription.
            () = tx.closed() => return,
            error = end.wait() => return fail(vec![error.graphql()]).await,
            event = events.recv() => event,
        };
        match event {
            Ok(FeedEvent::Next(body)) => {
                if !tx.send(Event::Next(body)).await {
                    return;
                }
            }
            Ok(FeedEvent::Error(errors)) => return fail((*errors).clone()).await,
            Ok(FeedEvent::Complete) => {
                tx.send(Event::Complete).await;
                return;
            }
            Err(RecvError::Lagged(skipped)) => state.metrics.subscription_skipped.inc_by(skipped),
            // The feed's sender lives as long as this client holds the feed.
            Err(RecvError::Closed) => return,
        }
    }
}

/// What a feed needs to run a subscription on behalf of all its clients: the first client's
/// operation, plan and credentials (the others' are the same: they share its key).
struct Spec {
    supergraph: Arc<Supergraph>,
    plan: Arc<QueryPlan>,
    prepared: Arc<Prepared>,
    root: String,
    variables: Map<String, Value>,
    errors: Vec<Value>,
    forward: crate::execute::Forward,
    token: Option<Arc<str>>,
    url: url::Url,
    service: String,
    query: String,
    used: Value,
}

/// A feed's task: the upstream subscription, reconnected with backoff when the subgraph
/// restarts, and each event executed once and published to every client of the feed.
async fn feed(state: Arc<RouterState>, spec: Spec, publisher: Publisher) {
    state.metrics.subscription_upstreams.inc();
    // Counted down however the task ends, aborted with its last client included.
    let _counted = Counted(&state.metrics.subscription_upstreams);
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut events = state.client.subscribe(&spec.url, spec.token.clone(), spec.query.clone(), spec.used.clone());
        while let Some(event) = events.recv().await {
            match event {
                Upstream::Next(payload) => {
                    backoff = Duration::from_millis(100);
                    // Boxed: executing the rest of the plan is the largest await here by far;
                    // inline, every feed would keep room for it between events.
                    let body = Box::pin(respond_to_event(
                        &state,
                        &spec.supergraph,
                        &spec.plan,
                        &spec.prepared.operation,
                        &spec.root,
                        &spec.variables,
                        &spec.forward,
                        *payload,
                        &spec.errors,
                    ))
                    .await;
                    publisher.next(&body);
                }
                Upstream::Error(errors) => return publisher.end(FeedEvent::Error(Arc::new(errors))),
                Upstream::Complete => return publisher.end(FeedEvent::Complete),
                Upstream::Lost(reason) => {
                    tracing::warn!(service = spec.service, reason, "subscription upstream lost; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

struct Counted<'a>(&'a prometheus::IntGauge);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Why a subscription must end on the caller's side: the token's expiry, or a revocation of its
/// session. Anonymous subscriptions never end this way.
struct Ending<'a> {
    state: &'a RouterState,
    token: Option<TokenRef>,
    expiry: Option<Instant>,
    revoked: tokio::sync::broadcast::Receiver<Revoked>,
}

impl<'a> Ending<'a> {
    fn new(state: &'a RouterState, context: &RequestContext) -> Self {
        Self {
            state,
            token: context.caller.as_ref().map(TokenRef::from),
            expiry: context.caller.as_ref().map(|c| expiry_instant(c.exp)),
            revoked: state.revocations.watch(),
        }
    }

    /// Resolves when the subscription must end, with the error that says why.
    async fn wait(&mut self) -> RouterError {
        let Some(token) = self.token else { return std::future::pending().await };
        // Revoked between admission and now (the watch only sees later revocations).
        if self.state.revocations.is_revoked(token) {
            return RouterError::SessionRevoked;
        }
        let expiry = self.expiry.expect("a caller has an expiry");
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(expiry) => return RouterError::TokenExpired,
                received = self.revoked.recv() => {
                    if self.state.revocations.concerns(received, token) {
                        return RouterError::SessionRevoked;
                    }
                }
            }
        }
    }
}

/// The instant a token with `exp` (seconds since the epoch) expires.
pub fn expiry_instant(exp: i64) -> Instant {
    let left = exp - chrono::Utc::now().timestamp();
    Instant::now() + Duration::from_secs(left.max(0) as u64)
}

/// The fetch that opens the subscription: the plan's `Subscription` node, alone or first in a
/// sequence (what follows resolves fields of other subgraphs for each event).
fn primary_fetch(node: Option<&PlanNode>) -> Option<&FetchNode> {
    match node? {
        PlanNode::Subscription(s) => Some(&s.primary),
        PlanNode::Sequence(seq) => primary_fetch(seq.nodes.first()),
        _ => None,
    }
}
