//! The router's `/graphql` over HTTP: POST with JSON (one request, or a batch: `batch`), GET for
//! queries only. This module only frames: each request is `request`'s to run.

use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    RouterState,
    context::Charge,
    error::RouterError,
    request::{GraphQLBody, Incoming, accepts_graphql_response, refuse, run},
};

/// A GraphQL request as GET parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
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
        Ok(body) => run(&state, Incoming { headers: &headers, peer, body, is_get: false, charge: Charge::User }).await,
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
    run(&state, Incoming { headers: &headers, peer, body, is_get: true, charge: Charge::User }).await
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
