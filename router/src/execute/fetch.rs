//! Requests to subgraphs, and root fetches (those not under a `Flatten`).

use std::{collections::HashMap, time::Duration};

use hive_router_query_planner::{ast::selection_item::SelectionItem, planner::plan_nodes::FetchNode};
use serde_json::{Map, Value, json};

use super::{Run, merge::deep_merge};

/// Headers passed on to every subgraph request (`Authorization`, `x-request-id`, `traceparent`).
#[derive(Debug, Clone, Default)]
pub struct Forward(pub Vec<(http::HeaderName, http::HeaderValue)>);

/// Sends GraphQL requests to subgraphs by name.
pub struct SubgraphClient {
    http: reqwest::Client,
    urls: HashMap<String, url::Url>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// Why a subgraph gave no usable answer. Never carries internals to the client.
#[derive(Debug)]
pub struct SubgraphFailure {
    pub service: String,
    pub reason: String,
}

impl SubgraphClient {
    /// `urls` maps each subgraph name (lower case, as in the supergraph's `join__Graph`) to its
    /// GraphQL endpoint.
    pub fn new(
        urls: HashMap<String, url::Url>,
        timeout: Duration,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().expect("HTTP client builds");
        Self { http, urls, metrics }
    }

    /// Posts one operation and returns the GraphQL response body, timed per subgraph.
    pub async fn send(
        &self,
        service: &str,
        query: &str,
        variables: Value,
        forward: &super::Forward,
    ) -> Result<Value, SubgraphFailure> {
        let name = service.to_lowercase();
        let timer = self.metrics.fetch_seconds.with_label_values(&[name.as_str()]).start_timer();
        let result = self.send_untimed(service, query, variables, forward).await;
        timer.observe_duration();
        if result.is_err() {
            self.metrics.fetch_errors.with_label_values(&[name.as_str()]).inc();
        }
        result
    }

    async fn send_untimed(
        &self,
        service: &str,
        query: &str,
        variables: Value,
        forward: &super::Forward,
    ) -> Result<Value, SubgraphFailure> {
        let fail = |reason: String| SubgraphFailure { service: service.to_owned(), reason };
        let url = self.urls.get(&service.to_lowercase()).ok_or_else(|| fail("no URL is configured for it".into()))?;
        let mut req = self.http.post(url.clone()).json(&json!({ "query": query, "variables": variables }));
        for (name, value) in &forward.0 {
            req = req.header(name, value);
        }
        let res = req
            .send()
            .await
            .map_err(|e| fail(if e.is_timeout() { "it timed out".into() } else { "it could not be reached".into() }))?;
        let status = res.status();
        let body: Value = res.json().await.map_err(|_| fail(format!("it answered {status} without a GraphQL body")))?;
        if body.get("data").is_none() && body.get("errors").is_none() {
            return Err(fail(format!("it answered {status} without data or errors")));
        }
        Ok(body)
    }
}

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
        let answer = self
            .client
            .send(&fetch.service_name, &fetch.operation.document_str, Value::Object(variables), self.forward)
            .await;
        match answer {
            Ok(mut body) => {
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
    let mut error = json!({
        "message": format!("The `{}` service is unavailable: {}.", failure.service.to_lowercase(), failure.reason),
        "extensions": { "code": "SUBGRAPH_UNAVAILABLE", "serviceName": failure.service.to_lowercase() },
    });
    if let Some(path) = path {
        error["path"] = Value::Array(path);
    }
    error
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
