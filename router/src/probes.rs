//! `/ready`: the router is ready when every subgraph says it is (database and bus reachable).

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};

use crate::RouterState;

pub(crate) async fn ready(State(state): State<Arc<RouterState>>) -> impl IntoResponse {
    let checks = state.subgraphs.0.iter().map(|(name, url)| {
        let http = state.http.clone();
        let url = url.join("ready").expect("a base URL joins a path");
        async move {
            let ok = http.get(url).send().await.is_ok_and(|r| r.status().is_success());
            (name.clone(), ok)
        }
    });
    let results: Vec<(String, bool)> = futures::future::join_all(checks).await;
    let all_ok = results.iter().all(|(_, ok)| *ok);
    let body: serde_json::Map<String, serde_json::Value> = results.into_iter().map(|(n, ok)| (n, ok.into())).collect();
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({ "subgraphs": body })))
}
