//! Deep-merging a subgraph's answer into the response tree.

use serde_json::Value;

/// Merges `from` into `into`: objects key by key (recursively), arrays item by item, anything
/// else replaced. Two subgraphs answering different fields of one object both land in it.
pub fn deep_merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (x, y) in a.iter_mut().zip(b) {
                deep_merge(x, y);
            }
        }
        (slot, v) => {
            // Never let a null from one subgraph erase what another already answered.
            if !v.is_null() || slot.is_null() {
                *slot = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merging_keeps_fields_from_both_sides_and_recurses_into_lists() {
        let mut a = json!({ "order": { "id": "1", "user": { "id": "u" }, "items": [{ "id": "p1" }] } });
        deep_merge(&mut a, json!({ "order": { "user": { "name": "Ada" }, "items": [{ "name": "Pen" }] } }));
        assert_eq!(
            a,
            json!({ "order": { "id": "1", "user": { "id": "u", "name": "Ada" }, "items": [{ "id": "p1", "name": "Pen" }] } })
        );
    }

    #[test]
    fn a_null_does_not_erase_an_answer() {
        let mut a = json!({ "x": 1 });
        deep_merge(&mut a, json!({ "x": null }));
        assert_eq!(a, json!({ "x": 1 }));
    }
}
