//! Error paths from `_entities` without the entity's index.
//!
//! async-graphql resolves every representation with the context of the `_entities` field itself,
//! so a field error inside entity 3 comes back as `["_entities", "email"]`, not
//! `["_entities", 3, "email"]`, and the router could not say which object of the client's answer
//! it belongs to. The index is recovered from the data: the entities whose value at that path is
//! null are the ones that failed there, and the k-th error with a given path goes to the k-th of
//! them (subgraphs report errors in representation order).

use std::collections::HashMap;

use serde_json::Value;

use crate::data::Data;

/// Inserts the entity index into each `_entities` error path that lacks it, in `errors` of an
/// answer whose data is `data`.
pub(super) fn index(data: Option<&Data>, errors: &mut [Value]) {
    if errors.is_empty() {
        return;
    }
    let mut next: HashMap<String, usize> = HashMap::new();
    let fixed: Vec<Option<Vec<Value>>> = errors
        .iter()
        .map(|error| {
            let path = error.get("path")?.as_array()?;
            let (Some(Value::String(key)), Some(Value::String(_))) = (path.first(), path.get(1)) else { return None };
            let Some(Data::List(answers)) = data?.get(key) else { return None };
            let rest = &path[1..];
            let seen = next.entry(Value::Array(path.clone()).to_string()).or_insert(0);
            let i = answers.iter().enumerate().filter(|(_, a)| is_null_at(a, rest)).map(|(i, _)| i).nth(*seen)?;
            *seen += 1;
            let mut indexed = vec![Value::String(key.clone()), Value::from(i)];
            indexed.extend(rest.iter().cloned());
            Some(indexed)
        })
        .collect();
    for (error, path) in errors.iter_mut().zip(fixed) {
        if let Some(path) = path {
            error["path"] = Value::Array(path);
        }
    }
}

/// Whether `value` is null (or absent) at `path`, or somewhere above it.
fn is_null_at(value: &Data, path: &[Value]) -> bool {
    let mut current = value;
    for step in path {
        let next = match (step, current) {
            (Value::String(k), _) => current.get(k),
            (Value::Number(n), Data::List(items)) => n.as_u64().and_then(|i| items.get(usize::try_from(i).ok()?)),
            _ => None,
        };
        match next {
            Some(v) if !v.is_null() => current = v,
            _ => return true,
        }
    }
    current.is_null()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_error_goes_to_the_entity_that_is_null_at_its_path_in_order() {
        let data = Data::from(
            json!({ "_entities": [{ "email": "a@x" }, { "email": null }, { "email": "c@x" }, { "email": null }] }),
        );
        let mut errors = vec![
            json!({ "message": "no", "path": ["_entities", "email"] }),
            json!({ "message": "no", "path": ["_entities", "email"] }),
            json!({ "message": "kept", "path": ["_entities", 0, "email"] }),
        ];
        index(Some(&data), &mut errors);
        let paths: Vec<&Value> = errors.iter().map(|e| &e["path"]).collect();
        assert_eq!(
            paths,
            [&json!(["_entities", 1, "email"]), &json!(["_entities", 3, "email"]), &json!(["_entities", 0, "email"])]
        );
    }
}
