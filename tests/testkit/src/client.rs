//! A small GraphQL-over-HTTP client for tests.

use serde_json::{Value, json};

/// POSTs `query` to `url` and returns the status and the JSON body.
pub async fn graphql_with(url: &str, query: &str, variables: Value, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    let body = res.json().await.expect("a JSON body");
    (status, body)
}

/// POSTs `query` without variables.
pub async fn graphql(url: &str, query: &str, token: Option<&str>) -> (u16, Value) {
    graphql_with(url, query, json!({}), token).await
}

/// Opens a multipart HTTP subscription at `url` as Apollo Client does (`Accept:
/// multipart/mixed;subscriptionSpec="1.0"`), with `token`, and returns the streaming response.
pub async fn multipart(url: &str, token: &str, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .header("accept", r#"multipart/mixed;subscriptionSpec="1.0", application/json"#)
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the server answers")
}
