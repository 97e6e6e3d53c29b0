//! The two payload formats clients read deferred responses in:
//! - `deferSpec=20220824`, Apollo Router's and Apollo Client's `Defer20220824Handler`: each
//!   deferred payload carries its `path` and `label`.
//! - `incrementalSpec=v0.2` (graphql-js 17 alpha 9, Apollo Client's `GraphQL17Alpha9Handler`):
//!   each deferred fragment is announced in `pending` with an id, delivered in `incremental` by
//!   that id, and closed in `completed`.

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Defer20220824,
    IncrementalV02,
}

impl Format {
    /// The format the client asked for in `Accept`, if it reads multipart at all. A bare
    /// `multipart/mixed` gets `deferSpec=20220824`, as Apollo Router answers it.
    pub fn accepted(headers: &HeaderMap) -> Option<Self> {
        let ranges = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
        for range in ranges {
            let mut params = range.split(';').map(|p| p.trim().to_ascii_lowercase());
            if params.next().as_deref() != Some("multipart/mixed") {
                continue;
            }
            let params: Vec<String> = params.map(|p| p.replace(['"', ' '], "")).collect();
            if params.iter().any(|p| p == "incrementalspec=v0.2") {
                return Some(Self::IncrementalV02);
            }
            if params.iter().any(|p| p == "deferspec=20220824") || !params.iter().any(|p| p.contains("spec=")) {
                return Some(Self::Defer20220824);
            }
        }
        None
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Defer20220824 => r#"multipart/mixed;boundary="graphql";deferSpec=20220824"#,
            Self::IncrementalV02 => r#"multipart/mixed;boundary="graphql";incrementalSpec=v0.2"#,
        }
    }
}

/// A deferred fragment at one place in the response, announced to the client.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: usize,
    pub path: Vec<Value>,
    pub label: Option<String>,
}

/// A pending fragment's data (null when a non-null field in it was null) and errors.
#[derive(Debug, Clone)]
pub struct Item {
    pub pending: Pending,
    pub data: Value,
    pub errors: Vec<Value>,
}

fn with_errors(mut object: Map<String, Value>, errors: &[Value]) -> Map<String, Value> {
    if !errors.is_empty() {
        object.insert("errors".into(), Value::Array(errors.to_vec()));
    }
    object
}

pub fn initial(format: Format, data: Value, errors: &[Value], pending: &[Pending], has_next: bool) -> Value {
    let mut out = with_errors(Map::from_iter([("data".into(), data)]), errors);
    if format == Format::IncrementalV02 && !pending.is_empty() {
        out.insert("pending".into(), announced(pending));
    }
    out.insert("hasNext".into(), Value::Bool(has_next));
    Value::Object(out)
}

pub fn subsequent(format: Format, pending: &[Pending], items: &[Item], has_next: bool) -> Value {
    let mut out = Map::new();
    match format {
        Format::Defer20220824 => {
            let incremental: Vec<Value> = items
                .iter()
                .map(|item| {
                    let mut part = Map::from_iter([
                        ("data".into(), item.data.clone()),
                        ("path".into(), Value::Array(item.pending.path.clone())),
                    ]);
                    if let Some(label) = &item.pending.label {
                        part.insert("label".into(), Value::String(label.clone()));
                    }
                    Value::Object(with_errors(part, &item.errors))
                })
                .collect();
            if !incremental.is_empty() {
                out.insert("incremental".into(), Value::Array(incremental));
            }
        }
        Format::IncrementalV02 => {
            if !pending.is_empty() {
                out.insert("pending".into(), announced(pending));
            }
            let id = |item: &Item| Value::String(item.pending.id.to_string());
            // A fragment nulled by a non-null error has no data: it completes with its errors.
            let incremental: Vec<Value> = items
                .iter()
                .filter(|item| !item.data.is_null())
                .map(|item| {
                    Value::Object(with_errors(
                        Map::from_iter([("id".into(), id(item)), ("data".into(), item.data.clone())]),
                        &item.errors,
                    ))
                })
                .collect();
            let completed: Vec<Value> = items
                .iter()
                .map(|item| {
                    let errors: &[Value] = if item.data.is_null() { &item.errors } else { &[] };
                    Value::Object(with_errors(Map::from_iter([("id".into(), id(item))]), errors))
                })
                .collect();
            if !incremental.is_empty() {
                out.insert("incremental".into(), Value::Array(incremental));
            }
            if !completed.is_empty() {
                out.insert("completed".into(), Value::Array(completed));
            }
        }
    }
    out.insert("hasNext".into(), Value::Bool(has_next));
    Value::Object(out)
}

fn announced(pending: &[Pending]) -> Value {
    let one = |p: &Pending| {
        let mut out = json!({ "id": p.id.to_string(), "path": p.path });
        if let Some(label) = &p.label {
            out["label"] = Value::String(label.clone());
        }
        out
    };
    Value::Array(pending.iter().map(one).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Format> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().expect("a header value"));
        Format::accepted(&headers)
    }

    #[test]
    fn the_format_follows_the_accept_header_as_apollo_client_sends_it() {
        let legacy = "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9";
        assert_eq!(accept(legacy), Some(Format::Defer20220824));
        assert_eq!(accept("multipart/mixed;incrementalSpec=v0.2, application/json"), Some(Format::IncrementalV02));
        assert_eq!(accept("multipart/mixed"), Some(Format::Defer20220824));
        assert_eq!(accept(r#"multipart/mixed;subscriptionSpec="1.0", application/json"#), None);
        assert_eq!(accept("application/json"), None);
    }

    #[test]
    fn a_nulled_fragment_completes_with_its_errors_in_the_newer_format() {
        let pending = Pending { id: 3, path: vec![json!("a")], label: Some("x".into()) };
        let errors = vec![json!({ "message": "boom" })];
        let item = Item { pending: pending.clone(), data: Value::Null, errors };
        assert_eq!(
            subsequent(Format::IncrementalV02, &[], std::slice::from_ref(&item), false),
            json!({ "completed": [{ "id": "3", "errors": [{ "message": "boom" }] }], "hasNext": false })
        );
        assert_eq!(
            subsequent(Format::Defer20220824, &[], &[item], false),
            json!({ "incremental": [{ "data": null, "path": ["a"], "label": "x", "errors": [{ "message": "boom" }] }], "hasNext": false })
        );
    }
}
