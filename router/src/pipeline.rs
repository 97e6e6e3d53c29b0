//! The request pipeline every transport shares. A reader follows a request here from its
//! transport to its response:
//!
//! 1. The transport frames the request (`http`, `ws`, `multipart`) and admits it with
//!    [`crate::context::authenticate`]: token, revocation, budgets, into a [`RequestContext`].
//! 2. [`authorize_operation`]: parse, count the cost, validate and normalize (on the blocking
//!    pool when the document is new), coerce variables, authorize field by field.
//! 3. [`respond`] for a query or mutation: response cache, introspection, plan (blocking pool on
//!    a miss), execute, project. A subscription goes to [`crate::subscription::spawn`] instead,
//!    which calls [`respond_to_event`] for each event.
//!
//! Every refusal is a typed [`RouterError`]; transports only render it.

use std::sync::Arc;

use hive_router_query_planner::{
    ast::{operation::OperationDefinition, selection_item::SelectionItem, selection_set::SelectionSet},
    planner::plan_nodes::QueryPlan,
    state::supergraph_state::OperationKind,
};
use serde_json::{Map, Value, json};
use tessera_kit::config::AuthorizationMode;

use crate::response_cache::Stored;
use crate::{
    RouterState,
    authorize::authorize,
    cache_key::Digest,
    context::RequestContext,
    data::Data,
    error::{Refusal, RouterError},
    execute::{Forward, execute, execute_from},
    project::{Projector, Trace},
    reply::Reply,
    supergraph::{Prepared, Supergraph, operation_key},
};

/// A GraphQL request, whatever carried it.
#[derive(Debug, Clone)]
pub struct GraphQLRequest {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
}

/// An operation that passed parsing, validation, limits and authorization.
pub struct Authorized {
    pub supergraph: Arc<Supergraph>,
    /// The client's prepared operation, which the response is shaped after (shared with the
    /// document cache, not copied per request).
    pub prepared: Arc<Prepared>,
    pub kind: OperationKind,
    pub root: String,
    /// The operation to plan: the client's minus refused fields.
    pub to_plan: OperationDefinition,
    /// `UNAUTHENTICATED`/`FORBIDDEN` errors for the refused fields.
    pub errors: Vec<Value>,
    /// The plan-cache key of `to_plan`, when authorization pruned nothing (it is then the
    /// prepared document's); computed at planning otherwise.
    pub plan_key: Option<Digest>,
    /// The variables, coerced against the operation's definitions (defaults filled in).
    pub variables: Map<String, Value>,
    /// No token: the response may come from, and go to, the response cache.
    pub anonymous: bool,
}

/// Prepares and authorizes `request` for the context's caller.
pub async fn authorize_operation(
    state: &RouterState,
    context: &RequestContext,
    request: &GraphQLRequest,
) -> Result<Authorized, Refusal> {
    let supergraph = state.supergraph();
    let prepared = match supergraph.cached(&request.query, request.operation_name.as_deref()) {
        Some(prepared) => prepared,
        // A new document costs CPU to parse, validate and normalize: never on an async worker,
        // where it would stall every other request (and `/health`) on that thread.
        None => {
            let (sg, query, name, limits) =
                (supergraph.clone(), request.query.clone(), request.operation_name.clone(), state.limits);
            tokio::task::spawn_blocking(move || sg.prepare(&query, name.as_deref(), &limits)).await.map_err(|e| {
                tracing::error!(error = %e, "preparing an operation failed");
                Refusal::from(RouterError::Internal)
            })??
        }
    };
    let variables = crate::variables::coerce(
        supergraph.state(),
        supergraph.input_defaults(),
        &prepared.operation,
        &request.variables,
    )
    .map_err(Refusal)?;
    let root = supergraph.root_type(&prepared.kind).unwrap_or("Query").to_owned();
    let caller = context.caller.as_ref();
    let verdict = authorize(supergraph.state(), &root, &prepared.operation, caller);
    if state.authorization == AuthorizationMode::Reject && !verdict.errors.is_empty() {
        return Err(Refusal(verdict.errors));
    }
    let plan_key = verdict.errors.is_empty().then_some(prepared.plan_key);
    Ok(Authorized {
        prepared: prepared.clone(),
        kind: prepared.kind.clone(),
        supergraph,
        root,
        to_plan: verdict.operation,
        errors: verdict.errors.iter().map(RouterError::graphql).collect(),
        variables,
        plan_key,
        anonymous: caller.is_none(),
    })
}

/// The plan for `operation`: from the cache, or made on the blocking pool (planning a new
/// operation is CPU work, like preparing it).
pub async fn plan(
    state: &RouterState,
    supergraph: &Arc<Supergraph>,
    operation: &OperationDefinition,
    key: Option<Digest>,
) -> Result<Arc<QueryPlan>, RouterError> {
    let key = key.unwrap_or_else(|| operation_key(operation));
    if let Some(plan) = supergraph.cached_plan(&key, &state.metrics) {
        return Ok(plan);
    }
    let (sg, operation, metrics) = (supergraph.clone(), operation.clone(), state.metrics.clone());
    tokio::task::spawn_blocking(move || sg.plan_keyed(key, &operation, &metrics)).await.map_err(|e| {
        tracing::error!(error = %e, "planning an operation failed");
        RouterError::Internal
    })?
}

/// A query or mutation ready to execute: planned, with its introspection fields answered.
pub(crate) struct Ready {
    pub supergraph: Arc<Supergraph>,
    pub prepared: Arc<Prepared>,
    pub root: String,
    /// None when nothing is fetched (only `__typename` and introspection).
    pub plan: Option<Arc<QueryPlan>>,
    /// The introspection fields' data, keyed by response key.
    pub introspected: Map<String, Value>,
    /// Errors so far (refused fields, introspection).
    pub errors: Vec<Value>,
    pub variables: Map<String, Value>,
}

/// Answers introspection and plans the rest; a planning failure is the whole response.
pub(crate) async fn ready(state: &RouterState, op: Authorized) -> Result<Ready, Value> {
    let Authorized { supergraph, prepared, root, mut to_plan, mut errors, variables, plan_key, .. } = op;
    // `__schema` and `__type` are the router's to answer; only the rest goes to subgraphs.
    let introspected =
        split_introspection(&mut to_plan, &supergraph, &prepared.operation, &variables, &mut errors).await;
    // Splitting off introspection changed the operation: its prepared key no longer applies.
    let plan_key = plan_key.filter(|_| introspected.is_empty());
    let nothing_to_fetch = to_plan
        .selection_set
        .items
        .iter()
        .all(|item| matches!(item, SelectionItem::Field(f) if f.name == "__typename"));
    let plan = if nothing_to_fetch {
        None
    } else {
        Some(
            plan(state, &supergraph, &to_plan, plan_key)
                .await
                .map_err(|error| json!({ "errors": [error.graphql()] }))?,
        )
    };
    Ok(Ready { supergraph, prepared, root, plan, introspected, errors, variables })
}

/// Executes a ready operation's plan with `variables` (the operation's, or a deferred
/// execution's): the merged data and the errors, the ready operation's included.
pub(crate) async fn run(
    state: &RouterState,
    ready: &Ready,
    variables: &Map<String, Value>,
    forward: &Forward,
) -> crate::execute::Outcome {
    let mut errors = ready.errors.clone();
    let Some(plan) = &ready.plan else {
        return crate::execute::Outcome { data: Data::object(), errors, max_age: None, tags: Vec::new() };
    };
    let _slot = state.admission.enter().await;
    let mut outcome = execute(&state.client, ready.supergraph.state(), plan, variables, forward).await;
    errors.append(&mut outcome.errors);
    outcome.errors = errors;
    outcome
}

/// Shapes an execution's merged data after the client's operation, with the introspection
/// answers added.
pub(crate) fn shaped(ready: &Ready, variables: &Map<String, Value>, merged: &Data, errors: &mut Vec<Value>) -> Data {
    shaped_traced(ready, variables, merged, errors, Trace::default()).0
}

/// The response to a query or mutation: its merged answer projected onto the client's
/// operation, written straight into the body (`Projector::write`) unless introspection fields
/// are to be added to the projected root.
fn reply(ready: &Ready, variables: &Map<String, Value>, merged: &Data, mut errors: Vec<Value>) -> Reply {
    if !ready.introspected.is_empty() {
        let data = shaped(ready, variables, merged, &mut errors);
        return Reply::new(&data, &errors);
    }
    // Sized after the last answer to this operation: a 90 KB answer grown from 4 KiB by
    // doubling was five reallocations and copies.
    let size = &ready.prepared.body_size;
    let mut body = Reply::open(size.load(std::sync::atomic::Ordering::Relaxed));
    let mut projector = Projector::new(ready.supergraph.state(), ready.supergraph.api_enums(), variables, &mut errors);
    projector.write(&ready.root, &ready.prepared.operation.selection_set, merged, &mut body);
    let reply = Reply::close(body, &errors);
    size.store(reply.body.len(), std::sync::atomic::Ordering::Relaxed);
    reply
}

/// Runs a query or mutation to its response body (`data` and `errors`). Identical queries in
/// flight share one execution where `router.traffic.inbound_dedup` allows (see `inflight`).
pub async fn respond(state: &RouterState, op: Authorized, forward: &Forward) -> Reply {
    if crate::inflight::applies(state.inbound_dedup, op.kind == OperationKind::Query, op.anonymous) {
        let key = crate::inflight::key(&op.prepared.plan_key, &op.variables, forward);
        let (body, shared) = state.inflight.share(key, respond_once(state, op, forward)).await;
        if shared {
            state.metrics.inbound_shared.inc();
        }
        return body;
    }
    respond_once(state, op, forward).await
}

async fn respond_once(state: &RouterState, op: Authorized, forward: &Forward) -> Reply {
    // Anonymous queries may be answered from the cache, keyed by the client's operation
    // (normalized) and variables.
    let cache_key = (op.anonymous && op.kind == OperationKind::Query).then(|| {
        let variables = Value::Object(op.variables.clone()).to_string();
        Digest::of(&[b"response", op.prepared.plan_key.bytes(), variables.as_bytes()])
    });
    if let Some(key) = &cache_key
        && let Some(body) = state.response_cache.get(key).await
    {
        return Reply::of_value(&body);
    }
    // Before any subgraph is asked: an entity that changes after this may be in the answer
    // with its old value, so the answer is not stored (see `response_cache`).
    let started = std::time::Instant::now();
    let op_kind_is_mutation = op.kind == OperationKind::Mutation;
    let ready = match ready(state, op).await {
        Ok(ready) => ready,
        Err(body) => return Reply::of_value(&body),
    };
    let outcome = run(state, &ready, &ready.variables, forward).await;
    let response = reply(&ready, &ready.variables, &outcome.data, outcome.errors);
    // A mutation's answer names the entities it changed: drop what the cache holds of them
    // before the client hears back, so its next read sees its own write. (Their events do the
    // same for every replica, a moment later.)
    if op_kind_is_mutation && !outcome.tags.is_empty() {
        state.response_cache.invalidate(&outcome.tags).await;
    }
    if let (Some(key), Some(max_age)) = (&cache_key, outcome.max_age)
        && !response.has_errors
    {
        let body = response.to_value();
        let stored = Stored { body: &body, max_age, tags: &outcome.tags, started };
        state.response_cache.put(key, stored).await;
    }
    response
}

/// The response to one subscription event: the event's data from the primary subgraph, plus
/// whatever the plan fetches from other subgraphs, shaped after the client's operation.
#[allow(clippy::too_many_arguments)]
pub async fn respond_to_event(
    state: &RouterState,
    supergraph: &Supergraph,
    plan: &QueryPlan,
    op: &OperationDefinition,
    root: &str,
    variables: &Map<String, Value>,
    forward: &Forward,
    event: Value,
    base_errors: &[Value],
) -> Value {
    let data = event.get("data").cloned().filter(Value::is_object).map_or_else(Data::object, Data::from);
    let mut event_errors: Vec<Value> = event.get("errors").and_then(Value::as_array).cloned().unwrap_or_default();
    event_errors.extend(base_errors.iter().cloned());
    let outcome = execute_from(&state.client, supergraph.state(), plan, variables, forward, data, event_errors).await;
    let mut errors = outcome.errors;
    let data = shape(supergraph, root, op, variables, &outcome.data, &mut errors);
    body(Value::from(&data), errors)
}

/// Like [`shaped`], tracing deferred fragments on the way (`crate::defer`).
pub(crate) fn shaped_traced(
    ready: &Ready,
    variables: &Map<String, Value>,
    merged: &Data,
    errors: &mut Vec<Value>,
    trace: Trace,
) -> (Data, Trace) {
    let mut projector = Projector::new(ready.supergraph.state(), ready.supergraph.api_enums(), variables, errors);
    let (mut data, trace) = projector.traced(trace, &ready.root, &ready.prepared.operation.selection_set, merged);
    if let Data::Object(map) = &mut data {
        for (key, value) in &ready.introspected {
            map.insert(key.as_str(), Data::from(value.clone()));
        }
    }
    (data, trace)
}

fn shape(
    supergraph: &Supergraph,
    root: &str,
    op: &OperationDefinition,
    variables: &Map<String, Value>,
    merged: &Data,
    errors: &mut Vec<Value>,
) -> Data {
    // Project the client's operation, not the pruned one: refused fields answer null.
    Projector::new(supergraph.state(), supergraph.api_enums(), variables, errors).project(
        root,
        &op.selection_set,
        merged,
    )
}

pub(crate) fn body(data: Value, errors: Vec<Value>) -> Value {
    let mut response = json!({ "data": data });
    if !errors.is_empty() {
        response["errors"] = Value::Array(errors);
    }
    response
}

fn is_introspection(item: &SelectionItem) -> bool {
    matches!(item, SelectionItem::Field(f) if f.name == "__schema" || f.name == "__type")
}

/// Removes the introspection fields of a root selection set, also from its fragments
/// (`... @defer { __type(...) }`), and the fragments left empty. Whether it removed any.
fn strip_introspection(set: &mut SelectionSet) -> bool {
    let mut removed = false;
    set.items.retain_mut(|item| match item {
        _ if is_introspection(item) => {
            removed = true;
            false
        }
        SelectionItem::InlineFragment(fragment) => {
            removed |= strip_introspection(&mut fragment.selections);
            !fragment.selections.items.is_empty()
        }
        _ => true,
    });
    removed
}

/// Keeps only the introspection fields of a root selection set, and the fragments holding some.
fn keep_introspection(set: &mut SelectionSet) {
    set.items.retain_mut(|item| match item {
        _ if is_introspection(item) => true,
        SelectionItem::InlineFragment(fragment) => {
            keep_introspection(&mut fragment.selections);
            !fragment.selections.items.is_empty()
        }
        _ => false,
    });
}

/// Removes introspection root fields from `to_plan` and answers them (or refuses them when
/// introspection is off). Returns their data, keyed by response key.
async fn split_introspection(
    to_plan: &mut OperationDefinition,
    supergraph: &Supergraph,
    client_operation: &OperationDefinition,
    variables: &Map<String, Value>,
    errors: &mut Vec<Value>,
) -> Map<String, Value> {
    if !strip_introspection(&mut to_plan.selection_set) {
        return Map::new();
    }
    let Some(introspection) = &supergraph.introspection else {
        errors.push(RouterError::IntrospectionDisabled.graphql());
        return Map::new();
    };
    let mut only = client_operation.clone();
    keep_introspection(&mut only.selection_set);
    let (data, intro_errors) = introspection.answer(&only, variables).await;
    errors.extend(intro_errors);
    data
}
