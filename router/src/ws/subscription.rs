//! One client subscription (or a query/mutation sent over the socket): from the `subscribe`
//! message to `complete`.

use std::{sync::Arc, time::Duration};

use hive_router_query_planner::{
    planner::plan_nodes::{FetchNode, PlanNode},
    state::supergraph_state::OperationKind,
};
use serde_json::{Map, Value};
use tessera_kit::jwt::Claims;
use tokio::sync::mpsc;

use super::{
    Out,
    protocol::{self, Protocol},
    upstream::{self, Upstream},
};
use crate::{
    RouterState,
    execute::Forward,
    pipeline::{authorize_operation, respond, respond_to_event},
    supergraph::coded,
};

/// Everything one subscription needs from its connection.
pub(crate) struct Request {
    pub id: String,
    pub query: String,
    pub variables: Map<String, Value>,
    pub operation_name: Option<String>,
    pub protocol: Protocol,
    pub caller: Option<Claims>,
    pub token: Option<String>,
    pub forward: Forward,
}

pub(crate) async fn run(state: Arc<RouterState>, req: Request, out: mpsc::Sender<Out>) {
    let send = |msg: Value| {
        let out = out.clone();
        async move { out.send(Out::Message(msg)).await.is_ok() }
    };
    let op = match authorize_operation(
        &state,
        &req.query,
        req.operation_name.as_deref(),
        &req.variables,
        req.caller.as_ref(),
    ) {
        Ok(op) => op,
        Err((_, errors)) => {
            send(protocol::error(req.protocol, &req.id, errors)).await;
            return finish(&out, &req.id).await;
        }
    };
    if op.kind != OperationKind::Subscription {
        // graphql-ws allows single-result operations too: one `next`, then `complete`.
        let body = respond(&state, op, &req.forward).await;
        if send(protocol::next(req.protocol, &req.id, body)).await {
            send(protocol::complete(&req.id)).await;
        }
        return finish(&out, &req.id).await;
    }
    if op.to_plan.selection_set.items.is_empty() {
        // The subscription field itself was refused.
        send(protocol::error(req.protocol, &req.id, op.errors)).await;
        return finish(&out, &req.id).await;
    }
    let plan = match op.supergraph.plan(&op.to_plan, &state.metrics) {
        Ok(plan) => plan,
        Err(errors) => {
            send(protocol::error(req.protocol, &req.id, errors)).await;
            return finish(&out, &req.id).await;
        }
    };
    let Some(primary) = primary_fetch(plan.node.as_ref()) else {
        let error =
            coded("The router could not find the subgraph that serves this subscription.", "QUERY_PLANNING_FAILED");
        send(protocol::error(req.protocol, &req.id, vec![error])).await;
        return finish(&out, &req.id).await;
    };
    let Some(url) = state.subgraphs.ws_url(&primary.service_name.to_lowercase()) else {
        let error = coded("The subgraph that serves this subscription has no URL.", "SUBGRAPH_UNAVAILABLE");
        send(protocol::error(req.protocol, &req.id, vec![error])).await;
        return finish(&out, &req.id).await;
    };
    let used: Map<String, Value> = primary
        .variable_usages
        .iter()
        .flatten()
        .filter_map(|name| Some((name.clone(), op.variables.get(name)?.clone())))
        .collect();

    // A subgraph that restarts is reconnected to transparently, with backoff, for as long as
    // the client stays.
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut events = upstream::subscribe(
            url.clone(),
            req.token.clone(),
            primary.operation.document_str.clone(),
            Value::Object(used.clone()),
        );
        loop {
            // The client may go away between events (a dropped multipart response): stop then,
            // which drops `events` and so closes the upstream subscription.
            let event = tokio::select! {
                () = out.closed() => return,
                event = events.recv() => match event {
                    Some(event) => event,
                    None => break,
                },
            };
            match event {
                Upstream::Next(payload) => {
                    backoff = Duration::from_millis(100);
                    let body = respond_to_event(
                        &state,
                        &op.supergraph,
                        &plan,
                        &op.prepared.operation,
                        &op.root,
                        &op.variables,
                        &req.forward,
                        payload,
                        &op.errors,
                    )
                    .await;
                    if !send(protocol::next(req.protocol, &req.id, body)).await {
                        return;
                    }
                }
                Upstream::Error(errors) => {
                    send(protocol::error(req.protocol, &req.id, errors)).await;
                    return finish(&out, &req.id).await;
                }
                Upstream::Complete => {
                    send(protocol::complete(&req.id)).await;
                    return finish(&out, &req.id).await;
                }
                Upstream::Lost(reason) => {
                    tracing::warn!(service = primary.service_name, reason, "subscription upstream lost; reconnecting");
                    break;
                }
            }
        }
        if out.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn finish(out: &mpsc::Sender<Out>, id: &str) {
    let _ = out.send(Out::Done(id.to_owned())).await;
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
