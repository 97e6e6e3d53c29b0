//! The router's `/graphql` over HTTP: POST with JSON, GET for queries only.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use hive_router_query_planner::{
    ast::{operation::OperationDefinition, selection_item::SelectionItem},
    state::supergraph_state::OperationKind,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tessera_kit::{ErrorCode, config::AuthorizationMode, server::error_response};

use crate::{
    RouterState,
    authorize::authorize,
    execute::{Forward, execute},
    project::Projector,
    supergraph::{Supergraph, coded},
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

pub(crate) async fn get(
    State(state): State<Arc<RouterState>>,
    headers: HeaderMap,
    Query(params): Query<GraphQLParams>,
) -> Response {
    if let Some(refusal) = csrf_refusal(&state, &headers) {
        return refusal;
    }
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

const FORWARDED: [&str; 3] = ["authorization", "x-request-id", "traceparent"];

async fn run(state: &RouterState, headers: &HeaderMap, body: GraphQLBody, is_get: bool) -> Response {
    let query = match state.apq.resolve(body.query, body.extensions.as_ref()) {
        Ok(Some(query)) if !query.trim().is_empty() => query,
        Ok(_) => {
            return error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, "The request has no `query`.");
        }
        Err(error) => return errors_response(StatusCode::OK, vec![error]),
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
                return res;
            }
        },
    };
    let supergraph = state.supergraph();
    let prepared = match supergraph.prepare(&query, body.operation_name.as_deref(), &state.limits) {
        Ok(p) => p,
        Err(errors) => {
            let over_limit =
                errors.iter().any(|e| e["extensions"]["code"].as_str().is_some_and(|c| c.starts_with("MAX_")));
            return errors_response(if over_limit { StatusCode::BAD_REQUEST } else { StatusCode::OK }, errors);
        }
    };
    if is_get && prepared.kind != OperationKind::Query {
        let mut res = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "Only queries may be sent with GET; use POST.",
        );
        res.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return res;
    }
    let root = supergraph.root_type(&prepared.kind).unwrap_or("Query").to_owned();
    let verdict = authorize(supergraph.state(), &root, &prepared.operation, caller.as_ref());
    if state.authorization == AuthorizationMode::Reject && !verdict.errors.is_empty() {
        return (StatusCode::OK, Json(json!({ "errors": verdict.errors }))).into_response();
    }
    let forward = Forward(
        FORWARDED
            .iter()
            .filter_map(|name| Some((http::HeaderName::from_static(name), headers.get(*name)?.clone())))
            .collect(),
    );
    let variables = body.variables.unwrap_or_default();
    let mut errors = verdict.errors;
    let mut to_plan = verdict.operation;
    // `__schema` and `__type` are the router's to answer; only the rest goes to subgraphs.
    let introspected =
        split_introspection(&mut to_plan, &supergraph, &prepared.operation, &variables, &mut errors).await;
    let only_typename = to_plan
        .selection_set
        .items
        .iter()
        .all(|item| matches!(item, SelectionItem::Field(f) if f.name == "__typename"));
    let merged = if only_typename {
        Value::Object(Map::new()) // nothing a subgraph must answer
    } else {
        let plan = match supergraph.plan(&to_plan) {
            Ok(plan) => plan,
            Err(plan_errors) => return errors_response(StatusCode::OK, plan_errors),
        };
        let outcome = execute(&state.client, &plan, &variables, &forward).await;
        errors.extend(outcome.errors);
        outcome.data
    };
    // Project the client's operation, not the pruned one: refused fields answer null.
    let data = Projector::new(supergraph.state(), &variables, &mut errors).project(
        &root,
        &prepared.operation.selection_set,
        &merged,
    );
    let data = match data {
        Value::Object(mut map) => {
            map.extend(introspected);
            Value::Object(map)
        }
        other => other,
    };
    let mut response = json!({ "data": data });
    if !errors.is_empty() {
        response["errors"] = Value::Array(errors);
    }
    (StatusCode::OK, Json(response)).into_response()
}

fn errors_response(status: StatusCode, errors: Vec<Value>) -> Response {
    (status, Json(json!({ "errors": errors }))).into_response()
}

fn is_introspection(item: &SelectionItem) -> bool {
    matches!(item, SelectionItem::Field(f) if f.name == "__schema" || f.name == "__type")
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
    if !to_plan.selection_set.items.iter().any(is_introspection) {
        return Map::new();
    }
    to_plan.selection_set.items.retain(|item| !is_introspection(item));
    let Some(introspection) = &supergraph.introspection else {
        errors.push(coded("Introspection is turned off on this router.", "INTROSPECTION_DISABLED"));
        return Map::new();
    };
    let mut only = client_operation.clone();
    only.selection_set.items.retain(is_introspection);
    let (data, intro_errors) = introspection.answer(only.to_string(), variables).await;
    errors.extend(intro_errors);
    data
}
