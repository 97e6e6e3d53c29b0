//! Requests to subgraphs, and root fetches (those not under a `Flatten`).

use hive_router_query_planner::{
    ast::selection_item::SelectionItem, planner::plan_nodes::FetchNode, state::supergraph_state::OperationKind,
};
use serde_json::{Map, Value, json};

use super::{Run, client::SubgraphFailure, merge::deep_merge};
use crate::{data::Data, error::RouterError};

/// Headers passed on to every subgraph request (`Authorization`, `x-request-id`, `traceparent`).
#[derive(Debug, Clone, Default)]
pub struct Forward(pub Vec<(http::HeaderName, http::HeaderValue)>);

/// The JSON text of the variables an operation uses, taken from the client's, followed by
/// `extra` (name, JSON text) pairs: the entity representations.
pub(super) fn variables_json(
    usages: Option<&std::collections::BTreeSet<String>>,
    all: &Map<String, Value>,
    extra: &[(&str, &str)],
) -> String {
    let mut out = Vec::with_capacity(64 + extra.iter().map(|(_, v)| v.len() + 16).sum::<usize>());
    out.push(b'{');
    let used = usages.into_iter().flatten().filter_map(|name| Some((name.as_str(), all.get(name)?)));
    for (i, (name, value)) in used.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, name).expect("a string always serializes");
        out.push(b':');
        serde_json::to_writer(&mut out, value).expect("a JSON value always serializes");
    }
    for (name, text) in extra {
        if out.len() > 1 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, name).expect("a string always serializes");
        out.push(b':');
        out.extend_from_slice(text.as_bytes());
    }
    out.push(b'}');
    String::from_utf8(out).expect("JSON text is UTF-8")
}

impl Run<'_> {
    pub(super) async fn root_fetch(&self, fetch: &FetchNode) {
        let variables = variables_json(fetch.variable_usages.as_ref(), self.variables, &[]);
        // A mutation is sent once: if it timed out, it may have happened.
        let is_query = fetch.operation_kind != Some(OperationKind::Mutation);
        let answer = self
            .client
            .send(&fetch.service_name, &fetch.operation.document_str, variables, self.forward, is_query)
            .await;
        let keys = || Some(root_response_keys(fetch).into_iter().map(Value::String).collect());
        match answer {
            Ok(answer) if !self.take_bytes(answer.bytes, keys) => {}
            Ok(answer) => {
                self.cache_hint(&answer);
                if !answer.errors.is_empty() {
                    let mut all = self.errors.lock().expect("errors lock poisoned");
                    all.extend(answer.errors.into_iter().map(|e| annotate(e, &fetch.service_name)));
                }
                if let Some(data) = answer.data.filter(Data::is_object) {
                    let mut tree = self.data.lock().expect("data lock poisoned");
                    if deep_merge(&mut tree, data) {
                        self.reshaped();
                    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_variables_an_operation_uses_are_sent_then_the_representations() {
        let all = json!({ "a": 1, "b": "two", "unused": true });
        let usages = ["a".to_owned(), "b".to_owned()].into_iter().collect();
        let text = variables_json(Some(&usages), all.as_object().unwrap(), &[("representations", "[{\"id\":\"1\"}]")]);
        let sent: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(sent, json!({ "a": 1, "b": "two", "representations": [{ "id": "1" }] }));
        assert_eq!(variables_json(None, all.as_object().unwrap(), &[]), "{}");
    }
}
