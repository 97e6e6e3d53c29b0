//! `/ready`: the router is ready when every subgraph says it is (database and bus reachable), or,
//! for a subgraph without Tessera's `/ready`, answers at all.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};

use crate::RouterState;

pub(crate) async fn ready(State(state): State<Arc<RouterState>>) -> impl IntoResponse {
    let subgraphs = state.subgraphs();
    let checks = subgraphs.names().map(|name| {
        let http = state.http.clone();
        let url = subgraphs.ready_url(name);
        async move {
            // A subgraph that is not Tessera's has no `/ready`: answering at all (404) is ready.
            let ok = match url {
                Some(url) => http
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success() || r.status() == axum::http::StatusCode::NOT_FOUND),
                None => false,
            };
            (name.clone(), ok)
        }
    });
    let results: Vec<(String, bool)> = futures::future::join_all(checks).await;
    let all_ok = results.iter().all(|(_, ok)| *ok);
    let body: serde_json::Map<String, serde_json::Value> = results.into_iter().map(|(n, ok)| (n, ok.into())).collect();
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({ "subgraphs": body })))
}
