//! Reading deferred (incremental) responses as a client does: split the multipart body into its
//! payloads, and apply them in either format to get the final result.

use serde_json::{Map, Value, json};

/// The formats' `Accept` headers, as Apollo Client's two handlers send them.
pub const DEFER_20220824: &str =
    "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9";
pub const INCREMENTAL_V02: &str = "multipart/mixed;incrementalSpec=v0.2,application/json";

/// POSTs `query` with `accept` and returns the content type and the payloads: one, for a
/// plain JSON answer; each part's, for a multipart one.
pub async fn deferred(url: &str, query: &str, variables: Value, accept: &str) -> (String, Vec<Value>) {
    let res = reqwest::Client::new()
        .post(url)
        .header("accept", accept)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the server answers");
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = res.text().await.expect("a body");
    if !content_type.starts_with("multipart/mixed") {
        return (content_type, vec![serde_json::from_str(&text).expect("a JSON body")]);
    }
    (content_type, parts(&text))
}

/// The JSON payloads of a multipart body with the boundary `graphql`.
pub fn parts(body: &str) -> Vec<Value> {
    body.split("\r\n--graphql")
        .filter_map(|segment| segment.split_once("\r\n\r\n").map(|(_, json)| json.trim()))
        .filter(|json| !json.is_empty())
        .map(|json| serde_json::from_str(json).unwrap_or_else(|e| panic!("a JSON part ({e}): {json}")))
        .collect()
}

/// The result a client ends with, applying each payload in turn: `data` and every `errors`.
pub fn applied(payloads: &[Value]) -> Value {
    let mut data = payloads.first().and_then(|p| p.get("data")).cloned().unwrap_or(Value::Null);
    let mut errors: Vec<Value> = Vec::new();
    let mut pending: Map<String, Value> = Map::new();
    for payload in payloads {
        errors.extend(payload.get("errors").and_then(Value::as_array).cloned().unwrap_or_default());
        for p in payload.get("pending").and_then(Value::as_array).into_iter().flatten() {
            pending.insert(p["id"].as_str().expect("an id").to_owned(), p["path"].clone());
        }
        for item in payload.get("incremental").and_then(Value::as_array).into_iter().flatten() {
            errors.extend(item.get("errors").and_then(Value::as_array).cloned().unwrap_or_default());
            let path = match item.get("id").and_then(Value::as_str) {
                Some(id) => pending.get(id).cloned().unwrap_or_else(|| panic!("id {id} was never pending")),
                None => item["path"].clone(),
            };
            merge_at(&mut data, path.as_array().expect("a path"), &item["data"]);
        }
        for done in payload.get("completed").and_then(Value::as_array).into_iter().flatten() {
            errors.extend(done.get("errors").and_then(Value::as_array).cloned().unwrap_or_default());
        }
    }
    let mut out = json!({ "data": data });
    if !errors.is_empty() {
        out["errors"] = Value::Array(errors);
    }
    out
}

fn merge_at(data: &mut Value, path: &[Value], patch: &Value) {
    let mut target = data;
    for step in path {
        target = match step {
            Value::String(key) => target.get_mut(key.as_str()),
            Value::Number(n) => target.get_mut(n.as_u64().expect("an index") as usize),
            _ => None,
        }
        .unwrap_or_else(|| panic!("the path {path:?} is not in the data"));
    }
    merge(target, patch);
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from)) if into.len() == from.len() => {
            into.iter_mut().zip(from).for_each(|(a, b)| merge(a, b));
        }
        (target, patch) => *target = patch.clone(),
    }
}
