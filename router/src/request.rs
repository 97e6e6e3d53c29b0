//! One GraphQL request over HTTP, from its parsed body to its response: persisted queries,
//! admission, authorization, then the pipeline, or `@defer`'s streamed answer. `http` (a POST or
//! a GET) and `batch` (each operation of an array) both end here.

use std::sync::Arc;

use axum::{
    Json,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use hive_router_query_planner::state::supergraph_state::OperationKind;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    RouterState,
    context::{self, Charge},
    error::{GRAPHQL_RESPONSE_JSON, Refusal, RouterError},
    pipeline::{GraphQLRequest, authorize_operation, respond},
};

/// A GraphQL-over-HTTP request: a POST body, a batch item, or GET parameters parsed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GraphQLBody {
    pub query: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    pub operation_name: Option<String>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// A refusal before execution, in the media type the client accepts (`modern`).
pub(crate) fn refuse(error: RouterError, modern: bool) -> Response {
    Refusal::from(error).response(modern)
}

/// One request as it arrived.
pub(crate) struct Incoming<'a> {
    pub headers: &'a HeaderMap,
    pub peer: Option<std::net::IpAddr>,
    pub body: GraphQLBody,
    /// A GET, which may only read.
    pub is_get: bool,
    /// The budgets still to charge: the per-IP middleware charged the HTTP request once; a
    /// batch's later operations charge their IP here.
    pub charge: Charge,
}

/// Runs one request, counted in the metrics.
pub(crate) async fn run(state: &Arc<RouterState>, incoming: Incoming<'_>) -> Response {
    let started = std::time::Instant::now();
    state.metrics.client(incoming.headers);
    let (response, kind, outcome) = run_counted(state, incoming).await;
    state.metrics.requests.with_label_values(&[kind, outcome]).inc();
    state.metrics.request_seconds.with_label_values(&[kind]).observe(started.elapsed().as_secs_f64());
    response
}

/// The response, with the operation type and outcome it is counted under.
type Counted = (Response, &'static str, &'static str);

async fn run_counted(state: &Arc<RouterState>, incoming: Incoming<'_>) -> Counted {
    let Incoming { headers, peer, body, is_get, charge } = incoming;
    let modern = accepts_graphql_response(headers);
    let refused = |refusal: Refusal| (refusal.response(modern), "unknown", "refused");
    if body.extensions.as_ref().is_some_and(|e| !e.is_object() && !e.is_null()) {
        return refused(RouterError::BadRequest("`extensions` must be an object.".into()).into());
    }
    let query = match state.apq.resolve(body.query, body.extensions.as_ref()) {
        Ok(Some(query)) if !query.trim().is_empty() => query,
        Ok(_) => return refused(RouterError::BadRequest("The request has no `query`.".into()).into()),
        Err(error) => return refused(error.into()),
    };
    // A bad token is refused outright; no token means anonymous.
    let context = match context::authenticate(state, context::header_token(headers), headers, peer, charge).await {
        Ok(context) => context,
        Err(error) => return refused(error.into()),
    };
    let request =
        GraphQLRequest { query, operation_name: body.operation_name, variables: body.variables.unwrap_or_default() };
    let op = match authorize_operation(state, &context, &request).await {
        Ok(op) => op,
        Err(refusal) => return refused(refusal),
    };
    let kind = match op.kind {
        OperationKind::Query => "query",
        OperationKind::Mutation => "mutation",
        OperationKind::Subscription => "subscription",
    };
    if is_get && op.kind != OperationKind::Query {
        return (refuse(RouterError::MethodNotAllowed, modern), kind, "refused");
    }
    if op.kind == OperationKind::Subscription {
        if !crate::multipart::accepts(headers) {
            return (refuse(RouterError::SubscriptionNeedsTransport, modern), kind, "refused");
        }
        let events = crate::subscription::spawn(state.clone(), context, op);
        return (crate::multipart::respond(events), kind, "ok");
    }
    if op.kind == OperationKind::Query
        && let Some(format) = crate::defer::Format::accepted(headers)
        && !op.prepared.defers.active(&op.variables).is_empty()
    {
        return deferred(state, op, context.forward, format).await;
    }
    let reply = respond(state, op, &context.forward).await;
    let outcome = if reply.has_errors { "error" } else { "ok" };
    let json = header::HeaderValue::from_static("application/json");
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, json)], reply.body).into_response();
    if modern {
        response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(GRAPHQL_RESPONSE_JSON));
    }
    (response, kind, outcome)
}

/// A query with deferred fragments, to a client that reads multipart: the payloads stream as
/// they complete. A planning failure is answered whole, as for any query.
async fn deferred(
    state: &Arc<RouterState>,
    op: crate::pipeline::Authorized,
    forward: crate::execute::Forward,
    format: crate::defer::Format,
) -> Counted {
    let ready = match crate::pipeline::ready(state, op).await {
        Ok(ready) => ready,
        Err(body) => return ((StatusCode::OK, Json(body)).into_response(), "query", "error"),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(crate::defer::deliver(state.clone(), ready, forward, format, tx));
    (crate::multipart::payloads(format.content_type(), rx), "query", "ok")
}

/// Whether the client accepts `application/graphql-response+json` (GraphQL over HTTP): it is
/// then answered in that media type, with 4xx statuses for requests that fail before execution.
pub(crate) fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/graphql-response+json"))
}
