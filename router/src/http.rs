//! The router's `/graphql` over HTTP: POST with JSON, GET for queries only. This module only
//! frames: admission is `context`'s, the rest the pipeline's.

use std::sync::Arc;

use axum::{
    Json,
    extract::{ConnectInfo, Query, State},
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

/// A GraphQL-over-HTTP request body (or GET parameters).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GraphQLBody {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
    operation_name: Option<String>,
    #[serde(default)]
    extensions: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

fn refuse(error: RouterError, modern: bool) -> Response {
    Refusal::from(error).response(modern)
}

pub(crate) async fn post(
    State(state): State<Arc<RouterState>>,
    peer: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let modern = accepts_graphql_response(&headers);
    // Before the body is even read: a cross-site simple request must not run.
    if state.csrf_prevention && crate::csrf::is_unsafe(&headers) {
        return refuse(RouterError::CsrfPrevention, modern);
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !essence.is_empty() && essence != "application/json" && essence != "application/graphql-response+json" {
        return refuse(RouterError::UnsupportedMediaType, modern);
    }
    let peer = peer.map(|c| c.0.0.ip());
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return crate::batch::respond(&state, &headers, peer, &body, modern).await;
    }
    match serde_json::from_slice::<GraphQLBody>(&body) {
        Ok(body) => run(&state, &headers, peer, body, false, Charge::User).await,
        Err(e) => refuse(RouterError::BadRequest(format!("The request body is not a GraphQL request: {e}.")), modern),
    }
}

pub(crate) async fn get(State(state): State<Arc<RouterState>>, request: axum::extract::Request) -> Response {
    if crate::ws::is_upgrade(request.headers()) {
        return crate::ws::upgrade(state, request).await;
    }
    if crate::graphiql::wants_page(request.headers(), request.uri().query().is_some_and(|q| !q.is_empty())) {
        return crate::graphiql::page().await.into_response();
    }
    let modern = accepts_graphql_response(request.headers());
    // No CSRF check: GET runs queries only and credentials never come from cookies (csrf.rs).
    let peer = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let headers = request.headers().clone();
    let params = match Query::<GraphQLParams>::try_from_uri(request.uri()) {
        Ok(Query(params)) => params,
        Err(_) => return refuse(RouterError::BadRequest("The query string is malformed.".into()), modern),
    };
    let variables = match params.variables.as_deref().map(serde_json::from_str::<Map<String, Value>>).transpose() {
        Ok(v) => v,
        Err(_) => return refuse(RouterError::BadRequest("`variables` must be a JSON object.".into()), modern),
    };
    let Ok(extensions) = params.extensions.as_deref().map(serde_json::from_str::<Value>).transpose() else {
        return refuse(RouterError::BadRequest("`extensions` must be JSON.".into()), modern);
    };
    let body = GraphQLBody { query: params.query, variables, operation_name: params.operation_name, extensions };
    run(&state, &headers, peer, body, true, Charge::User).await
}

/// Runs one request. `charge`: the budgets still to charge (the per-IP middleware charged the
/// HTTP request once; a batch's later operations charge their IP here).
pub(crate) async fn run(
    state: &Arc<RouterState>,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: GraphQLBody,
    is_get: bool,
    charge: Charge,
) -> Response {
    let started = std::time::Instant::now();
    state.metrics.client(headers);
    let (response, kind, outcome) = run_counted(state, headers, peer, body, is_get, charge).await;
    state.metrics.requests.with_label_values(&[kind, outcome]).inc();
    state.metrics.request_seconds.with_label_values(&[kind]).observe(started.elapsed().as_secs_f64());
    response
}

/// The response, with the operation type and outcome it is counted under.
type Counted = (Response, &'static str, &'static str);

async fn run_counted(
    state: &Arc<RouterState>,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: GraphQLBody,
    is_get: bool,
    charge: Charge,
) -> Counted {
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
    let body = respond(state, op, &context.forward).await;
    let outcome = if body.get("errors").is_some() { "error" } else { "ok" };
    let mut response = (StatusCode::OK, Json(body)).into_response();
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
fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/graphql-response+json"))
}

/// Middleware: `X-Forwarded-For` becomes the TCP peer, whatever the client sent, so subgraphs
/// (which trust the router) see the real client address for per-IP budgets and session lists.
/// The router is the edge; behind another proxy this would need a trusted-proxy list too.
pub(crate) async fn stamp_client(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    match peer.and_then(|ip| header::HeaderValue::from_str(&ip.to_string()).ok()) {
        Some(value) => request.headers_mut().insert("x-forwarded-for", value),
        None => request.headers_mut().remove("x-forwarded-for"),
    };
    next.run(request).await
}

/// Middleware: refuses requests whose headers (names and values) exceed `max_header_bytes`,
/// before anything else reads them.
pub(crate) async fn limit_headers(
    State(state): State<Arc<RouterState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let bytes: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if bytes > state.max_header_bytes {
        return refuse(
            RouterError::HeadersTooLarge { bytes, limit: state.max_header_bytes },
            accepts_graphql_response(request.headers()),
        );
    }
    next.run(request).await
}
