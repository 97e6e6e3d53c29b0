//! The router's `/graphql` over HTTP: POST with JSON, GET for queries only.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use hive_router_query_planner::state::supergraph_state::OperationKind;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tessera_kit::{ErrorCode, server::error_response};

use crate::{
    RouterState,
    execute::Forward,
    pipeline::{authorize_operation, respond},
    supergraph::coded,
};

/// A GraphQL-over-HTTP request body (or GET parameters).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLBody {
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

pub(crate) async fn post(
    State(state): State<Arc<RouterState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // Before the body is even read: a cross-site simple request must not run.
    if let Some(refusal) = csrf_refusal(&state, &headers) {
        return refusal;
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !essence.is_empty() && essence != "application/json" && essence != "application/graphql-response+json" {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "Send the request as JSON (`Content-Type: application/json`).",
        );
    }
    match serde_json::from_slice::<GraphQLBody>(&body) {
        Ok(body) => run(&state, &headers, body, false).await,
        Err(e) => error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            &format!("The request body is not a GraphQL request: {e}."),
        ),
    }
}

fn csrf_refusal(state: &RouterState, headers: &HeaderMap) -> Option<Response> {
    (state.csrf_prevention && crate::csrf::is_unsafe(headers)).then(|| {
        errors_response(
            StatusCode::BAD_REQUEST,
            vec![coded(
                "This request could have been sent by a cross-site page, so it was not run. Send it with \
                 `Content-Type: application/json`, or add an `apollo-require-preflight: true` header.",
                "CSRF_PREVENTION",
            )],
        )
    })
}

pub(crate) async fn get(State(state): State<Arc<RouterState>>, request: axum::extract::Request) -> Response {
    if crate::ws::is_upgrade(request.headers()) {
        return crate::ws::upgrade(state, request).await;
    }
    if crate::graphiql::wants_page(request.headers(), request.uri().query().is_some_and(|q| !q.is_empty())) {
        return crate::graphiql::page().await.into_response();
    }
    // No CSRF check: GET runs queries only and credentials never come from cookies (csrf.rs).
    let headers = request.headers().clone();
    let params = match Query::<GraphQLParams>::try_from_uri(request.uri()) {
        Ok(Query(params)) => params,
        Err(_) => {
            return error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, "The query string is malformed.");
        }
    };
    let variables = match params.variables.as_deref().map(serde_json::from_str::<Map<String, Value>>).transpose() {
        Ok(v) => v,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "`variables` must be a JSON object.",
            );
        }
    };
    let Ok(extensions) = params.extensions.as_deref().map(serde_json::from_str::<Value>).transpose() else {
        return error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, "`extensions` must be JSON.");
    };
    let body = GraphQLBody { query: params.query, variables, operation_name: params.operation_name, extensions };
    run(&state, &headers, body, true).await
}

async fn run(state: &Arc<RouterState>, headers: &HeaderMap, body: GraphQLBody, is_get: bool) -> Response {
    let started = std::time::Instant::now();
    let (response, kind, outcome) = run_counted(state, headers, body, is_get).await;
    state.metrics.requests.with_label_values(&[kind, outcome]).inc();
    state.metrics.request_seconds.with_label_values(&[kind]).observe(started.elapsed().as_secs_f64());
    response
}

/// The response, with the operation type and outcome it is counted under.
type Counted = (Response, &'static str, &'static str);

async fn run_counted(state: &Arc<RouterState>, headers: &HeaderMap, body: GraphQLBody, is_get: bool) -> Counted {
    let modern = accepts_graphql_response(headers);
    if body.extensions.as_ref().is_some_and(|e| !e.is_object() && !e.is_null()) {
        return refused(error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "`extensions` must be an object.",
        ));
    }
    let query = match state.apq.resolve(body.query, body.extensions.as_ref()) {
        Ok(Some(query)) if !query.trim().is_empty() => query,
        Ok(_) => {
            return refused(error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "The request has no `query`.",
            ));
        }
        Err(error) => return refused(errors_response(StatusCode::OK, vec![error])),
    };
    // A bad token is refused outright; no token means anonymous.
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(tessera_kit::server::bearer)
        .filter(|t| !t.is_empty());
    let caller = match token {
        None => None,
        Some(token) => match state.verifier.verify(token).await {
            Ok(claims) => Some(claims),
            Err(e) => {
                let mut res = error_response(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthenticated,
                    &format!("{e} Sign in again."),
                );
                res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
                return refused(res);
            }
        },
    };
    if caller.as_ref().is_some_and(|c| state.revocations.is_revoked(c.sid)) {
        let mut res = error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "This session was signed out. Sign in again.",
        );
        res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return refused(res);
    }
    if let Some(claims) = &caller
        && let Err(wait) = state.rate_limiter.check(&format!("user:{}", claims.sub), &state.rate_limits.per_user).await
    {
        return refused(crate::rate_limit::refused(wait));
    }
    let variables = body.variables.unwrap_or_default();
    let op = match authorize_operation(state, &query, body.operation_name.as_deref(), &variables, caller.as_ref()) {
        Ok(op) => op,
        // With the newer media type, a request that fails before execution is a 400.
        Err((status, errors)) => {
            return refused(errors_response(if modern { StatusCode::BAD_REQUEST } else { status }, errors));
        }
    };
    let kind = match op.kind {
        OperationKind::Query => "query",
        OperationKind::Mutation => "mutation",
        OperationKind::Subscription => "subscription",
    };
    if is_get && op.kind != OperationKind::Query {
        let mut res = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "Only queries may be sent with GET; use POST.",
        );
        res.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return (res, kind, "refused");
    }
    if op.kind == OperationKind::Subscription && crate::multipart::accepts(headers) {
        let request = crate::ws::subscription::Request {
            id: "1".into(),
            query: query.clone(),
            variables,
            operation_name: body.operation_name.clone(),
            protocol: crate::ws::protocol::Protocol::Multipart,
            caller,
            token: token.map(str::to_owned),
            forward: forwarded(headers),
        };
        return (crate::multipart::respond(state.clone(), request), kind, "ok");
    }
    if op.kind == OperationKind::Subscription {
        let res = errors_response(
            StatusCode::BAD_REQUEST,
            vec![coded(
                "Subscriptions need a websocket (graphql-transport-ws on /graphql) or a multipart request \
                 (`Accept: multipart/mixed;subscriptionSpec=\"1.0\"`).",
                "SUBSCRIPTION_NEEDS_WEBSOCKET",
            )],
        );
        return (res, kind, "refused");
    }
    let forward = forwarded(headers);
    let body = respond(state, op, &forward).await;
    let outcome = if body.get("errors").is_some() { "error" } else { "ok" };
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if modern {
        response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(GRAPHQL_RESPONSE_JSON));
    }
    (response, kind, outcome)
}

fn refused(response: Response) -> Counted {
    (response, "unknown", "refused")
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";

/// Whether the client accepts `application/graphql-response+json` (GraphQL over HTTP): it is
/// then answered in that media type, with 4xx statuses for requests that fail before execution.
fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/graphql-response+json"))
}

const FORWARDED: [&str; 5] = ["authorization", "x-request-id", "traceparent", "x-forwarded-for", "user-agent"];

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

/// The headers every subgraph request carries on the caller's behalf.
pub(crate) fn forwarded(headers: &HeaderMap) -> Forward {
    Forward(
        FORWARDED
            .iter()
            .filter_map(|name| Some((http::HeaderName::from_static(name), headers.get(*name)?.clone())))
            .collect(),
    )
}

fn errors_response(status: StatusCode, errors: Vec<Value>) -> Response {
    (status, Json(json!({ "errors": errors }))).into_response()
}
