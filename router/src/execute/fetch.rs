//! Requests to subgraphs, and root fetches (those not under a `Flatten`).

use hive_router_query_planner::{
    ast::selection_item::SelectionItem, planner::plan_nodes::FetchNode, state::supergraph_state::OperationKind,
};
use serde_json::{Map, Value, json};

use super::{Run, client::SubgraphFailure, merge::deep_merge};
use crate::error::RouterError;

/// Headers passed on to every subgraph request (`Authorization`, `x-request-id`, `traceparent`).
#[derive(Debug, Clone, Default)]
pub struct Forward(pub Vec<(http::HeaderName, http::HeaderValue)>);

/// The variables an operation uses, taken from the client's.
pub(super) fn used_variables(
    usages: Option<&std::collections::BTreeSet<String>>,
    all: &Map<String, Value>,
) -> Map<String, Value> {
    usages.into_iter().flatten().filter_map(|name| Some((name.clone(), all.get(name)?.clone()))).collect()
}

impl Run<'_> {
    pub(super) async fn root_fetch(&self, fetch: &FetchNode) {
        let variables = used_variables(fetch.variable_usages.as_ref(), self.variables);
        // A mutation is sent once: if it timed out, it may have happened.
        let is_query = fetch.operation_kind != Some(OperationKind::Mutation);
        let answer = self
            .client
            .send(&fetch.service_name, &fetch.operation.document_str, Value::Object(variables), self.forward, is_query)
            .await;
        let keys = || Some(root_response_keys(fetch).into_iter().map(Value::String).collect());
        match answer {
            Ok(answer) if !self.take_bytes(answer.bytes, keys) => {}
            Ok(answer) => {
                self.cache_hint(&answer);
                let mut body = answer.body;
                if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
                    let mut all = self.errors.lock().expect("errors lock poisoned");
                    all.extend(errors.drain(..).map(|e| annotate(e, &fetch.service_name)));
                }
                if let Some(data) = body.get_mut("data").map(Value::take).filter(Value::is_object) {
                    deep_merge(&mut self.data.lock().expect("data lock poisoned"), data);
                }
            }
            Err(failure) => {
                // One error per root field the fetch would have answered, at that field's path.
                for key in root_response_keys(fetch) {
                    self.error(unavailable(&failure, Some(vec![Value::String(key)])));
                }
            }
        }
    }
}

fn root_response_keys(fetch: &FetchNode) -> Vec<String> {
    fetch
        .operation
        .document
        .operation
        .selection_set
        .items
        .iter()
        .filter_map(|item| match item {
            SelectionItem::Field(f) => Some(f.alias.clone().unwrap_or_else(|| f.name.clone())),
            _ => None,
        })
        .collect()
}

/// The error a client sees for a failed subgraph: it names the subgraph, nothing more.
pub(super) fn unavailable(failure: &SubgraphFailure, path: Option<Vec<Value>>) -> Value {
    tracing::warn!(service = failure.service, reason = failure.reason, "subgraph fetch failed");
    let error = if let Some(limit) = failure.too_large {
        RouterError::MaxResponseSize { limit }
    } else {
        RouterError::SubgraphUnavailable { service: failure.service.to_lowercase(), reason: failure.reason.clone() }
    };
    match path {
        Some(path) => error.at(path),
        None => error.graphql(),
    }
}

/// Tags a subgraph's error with the service it came from.
pub(super) fn annotate(mut error: Value, service: &str) -> Value {
    if let Some(obj) = error.as_object_mut() {
        let ext = obj.entry("extensions").or_insert_with(|| json!({}));
        if let Some(ext) = ext.as_object_mut() {
            ext.entry("serviceName").or_insert_with(|| Value::String(service.to_lowercase()));
        }
    }
    error
}
