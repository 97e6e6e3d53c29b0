//! Deep-merging a subgraph's answer into the response tree.

use std::collections::HashMap;

use crate::data::Data;

/// Past this many fields, merging into an object indexes its keys once instead of searching
/// them for every incoming field (a wide answer would otherwise merge in quadratic time).
const INDEX_FROM: usize = 16;

/// Merges `from` into `into`: objects key by key (recursively), lists item by item, anything
/// else replaced. Two subgraphs answering different fields of one object both land in it.
///
/// Whether it replaced an object or a list that was there (a list of another length, or a
/// value of another kind). Otherwise it only added fields at the end of objects and filled or
/// replaced leaves, so every object and list already in the tree kept its place: positions
/// recorded before (`path::each_at`) still lead to the same objects.
pub fn deep_merge(into: &mut Data, from: Data) -> bool {
    match (into, from) {
        (Data::Object(a), Data::Object(b)) if a.len() * b.len() > INDEX_FROM * INDEX_FROM => {
            let pairs = a.pairs_mut();
            let mut index: HashMap<_, usize, foldhash::fast::RandomState> =
                pairs.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
            let mut reshaped = false;
            for (k, v) in b.into_pairs() {
                match index.get(&k) {
                    Some(&i) => reshaped |= deep_merge(&mut pairs[i].1, v),
                    None => {
                        index.insert(k.clone(), pairs.len());
                        pairs.push((k, v));
                    }
                }
            }
            reshaped
        }
        (Data::Object(a), Data::Object(b)) => {
            let mut reshaped = false;
            // Room for the new fields at once: an entity usually gains several.
            a.reserve(b.len());
            for (k, v) in b.into_pairs() {
                match a.get_mut(&k) {
                    Some(existing) => reshaped |= deep_merge(existing, v),
                    None => a.push_new(k, v),
                }
            }
            reshaped
        }
        (Data::List(a), Data::List(b)) if a.len() == b.len() => {
            let mut reshaped = false;
            for (x, y) in a.iter_mut().zip(b) {
                reshaped |= deep_merge(x, y);
            }
            reshaped
        }
        (slot, v) => {
            // Never let a null from one subgraph erase what another already answered.
            if !v.is_null() || slot.is_null() {
                let reshaped = matches!(slot, Data::Object(_) | Data::List(_));
                *slot = v;
                return reshaped;
            }
            false
        }
    }
}

/// [`deep_merge`] from a borrowed answer, copying only what lands in `into`: for an answer that
/// several objects share (the same representation), copying it whole and then moving its
/// fields in cost an allocation, a copy and a free more per object.
pub fn merge_copy(into: &mut Data, from: &Data) -> bool {
    match (into, from) {
        (Data::Object(a), Data::Object(b)) if a.len() * b.len() <= INDEX_FROM * INDEX_FROM => {
            let mut reshaped = false;
            a.reserve(b.len());
            for (k, v) in b.iter() {
                match a.get_mut(k) {
                    Some(existing) => reshaped |= merge_copy(existing, v),
                    None => a.push_new(k.clone(), v.clone()),
                }
            }
            reshaped
        }
        (Data::List(a), Data::List(b)) if a.len() == b.len() => {
            let mut reshaped = false;
            for (x, y) in a.iter_mut().zip(b) {
                reshaped |= merge_copy(x, y);
            }
            reshaped
        }
        // Wide objects, and replacements: as `deep_merge` does them.
        (into, from) => deep_merge(into, from.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn merged(a: Value, b: Value) -> Value {
        let mut a = Data::from(a);
        deep_merge(&mut a, Data::from(b));
        Value::from(&a)
    }

    #[test]
    fn merging_keeps_fields_from_both_sides_and_recurses_into_lists() {
        let a = json!({ "order": { "id": "1", "user": { "id": "u" }, "items": [{ "id": "p1" }] } });
        let b = json!({ "order": { "user": { "name": "Ada" }, "items": [{ "name": "Pen" }] } });
        assert_eq!(
            merged(a, b),
            json!({ "order": { "id": "1", "user": { "id": "u", "name": "Ada" }, "items": [{ "id": "p1", "name": "Pen" }] } })
        );
    }

    #[test]
    fn a_merge_says_whether_it_replaced_an_object_or_a_list() {
        let tree = || Data::from(json!({ "a": { "b": [1, 2] }, "c": null, "d": 1 }));
        let mut a = tree();
        assert!(!deep_merge(&mut a, Data::from(json!({ "a": { "e": 1, "b": [3, 4] }, "c": {}, "d": "x" }))));
        assert!(deep_merge(&mut tree(), Data::from(json!({ "a": { "b": [1] } }))), "a list of another length");
        assert!(deep_merge(&mut tree(), Data::from(json!({ "a": 5 }))), "an object replaced by a leaf");
        assert!(!deep_merge(&mut tree(), Data::from(json!({ "a": null }))), "a null replaces nothing");
    }

    #[test]
    fn merging_a_copy_gives_what_merging_the_answer_gives() {
        let into = json!({ "id": "p1", "info": { "a": 1 }, "tags": [{ "x": 1 }, { "x": 2 }], "gone": [1], "n": null });
        let wide: serde_json::Map<String, Value> = (0..40).map(|i| (format!("w{i}"), json!(i))).collect();
        let answers = [
            json!({ "name": "Pen", "info": { "b": 2 }, "tags": [{ "y": 1 }, { "y": 2 }], "n": 5 }),
            json!({ "gone": [1, 2], "info": null }),
            json!({ "info": 7 }),
            json!({ "info": wide.clone() }),
        ];
        for answer in answers {
            let (mut a, mut b) = (Data::from(into.clone()), Data::from(into.clone()));
            let answer = Data::from(answer);
            let by_copy = merge_copy(&mut a, &answer);
            let by_move = deep_merge(&mut b, answer);
            assert_eq!((a, by_copy), (b, by_move));
        }
    }

    #[test]
    fn a_null_does_not_erase_an_answer() {
        assert_eq!(merged(json!({ "x": 1 }), json!({ "x": null })), json!({ "x": 1 }));
    }

    #[test]
    fn wide_objects_merge_key_by_key_like_narrow_ones() {
        let a: serde_json::Map<String, Value> = (0..100).map(|i| (format!("f{i}"), json!({ "a": i }))).collect();
        let b: serde_json::Map<String, Value> = (50..150).map(|i| (format!("f{i}"), json!({ "b": i }))).collect();
        let out = merged(Value::Object(a), Value::Object(b));
        assert_eq!(out["f10"], json!({ "a": 10 }));
        assert_eq!(out["f60"], json!({ "a": 60, "b": 60 }));
        assert_eq!(out["f120"], json!({ "b": 120 }));
        assert_eq!(out.as_object().unwrap().len(), 150);
    }
}
