//! Batched requests: a JSON array of GraphQL requests in one POST, as Apollo Client's
//! `BatchHttpLink` sends them, answered with an array of responses in the same order.
//!
//! The operations run one after another, in order, each exactly as if it had come alone: its
//! own admission (token, rate limits: a batch of 100 `login`s is 100 attempts), validation,
//! limits and execution. So mutations run in order, and a batch costs the router no less than
//! its operations would. `router.limits.max_batch_size` bounds its length. An operation that
//! needs a stream (a subscription, `@defer`) gets its whole answer or its error in place.

use std::sync::Arc;

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use crate::{
    RouterState,
    context::Charge,
    error::{GRAPHQL_RESPONSE_JSON, Refusal, RouterError},
    request::{GraphQLBody, Incoming, run},
};

pub(crate) async fn respond(
    state: &Arc<RouterState>,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: &[u8],
    modern: bool,
) -> Response {
    let refuse = |error: RouterError| Refusal::from(error).response(modern);
    let items: Vec<Value> = match serde_json::from_slice(body) {
        Ok(items) => items,
        Err(e) => return refuse(RouterError::BadRequest(format!("The batch is not a JSON array of requests: {e}."))),
    };
    let limit = state.limits.max_batch_size;
    if items.is_empty() || items.len() > limit {
        return refuse(RouterError::BatchSize { size: items.len(), limit });
    }
    // Each operation answers in one JSON body: no multipart inside an array.
    let mut single = headers.clone();
    let accept = if modern { GRAPHQL_RESPONSE_JSON } else { "application/json" };
    single.insert(header::ACCEPT, HeaderValue::from_static(accept));
    let mut answers = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let response = match serde_json::from_value::<GraphQLBody>(item) {
            // The middleware charged the HTTP request's IP once, for the first operation.
            Ok(request) => {
                let charge = if i == 0 { Charge::User } else { Charge::IpAndUser };
                run(state, Incoming { headers: &single, peer, body: request, is_get: false, charge }).await
            }
            Err(e) => {
                refuse(RouterError::BadRequest(format!("Request {i} of the batch is not a GraphQL request: {e}.")))
            }
        };
        answers.push(json_of(response).await);
    }
    let mut response = (StatusCode::OK, Json(Value::Array(answers))).into_response();
    if modern {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPHQL_RESPONSE_JSON));
    }
    response
}

/// The JSON body of one operation's response.
async fn json_of(response: Response) -> Value {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}
