//! Deep-merging a subgraph's answer into the response tree.

use std::{collections::HashMap, sync::Arc};

use crate::data::{Data, Object};

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
    let from = from.unshared();
    if from.is_object() {
        into.as_object_mut(); // a shared object here becomes this place's own
    }
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
                let reshaped = slot.is_composite();
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
    let narrow = |a: &Object, b: &Object| a.len() * b.len() <= INDEX_FROM * INDEX_FROM;
    if let (Some(a), Some(b)) = (into.as_object(), from.as_object())
        && narrow(a, b)
    {
        let a = into.as_object_mut().expect("an object");
        let mut reshaped = false;
        a.reserve(b.len());
        for (k, v) in b.iter() {
            match a.get_mut(k) {
                Some(existing) => reshaped |= merge_copy(existing, v),
                None => a.push_new(k.clone(), v.clone()),
            }
        }
        return reshaped;
    }
    match (into, from) {
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

/// One answer that several objects share (they sent the same representation), given to each in
/// turn: `uses` is how many.
///
/// The objects sharing a representation usually look alike too: the same key fields, from the
/// same selection in the parent's subgraph. So the first object's state before its merge is
/// kept, the merged object is put where [`Data::Shared`] can hold it, and each later object
/// equal to that "before" takes the shared one: no copy, no allocation. A later fetch at the
/// same place meets them all still sharing one object (equal by address, so the comparison is
/// free) and shares its own result again. An object that differs gets a copy merged in, as
/// before. Only objects without nested objects or lists are compared, so the comparison stays
/// a few leaves long.
pub struct Shared {
    answer: Option<Data>,
    left: usize,
    /// The first object as it was before its merge, what it became, and whether that merge
    /// reshaped it.
    template: Option<(Data, Arc<Object>, bool)>,
}

impl Shared {
    pub fn new(answer: Data, uses: usize) -> Self {
        Self { answer: Some(answer), left: uses, template: None }
    }

    /// Merges the answer into `entity`, as [`deep_merge`] would; true if that reshaped it. The
    /// last of the `uses` takes the answer itself; after it, there is nothing left to give.
    pub fn give(&mut self, entity: &mut Data) -> bool {
        if self.answer.is_none() {
            return false;
        }
        self.left = self.left.saturating_sub(1);
        let last = self.left == 0;
        if let Some((before, after, reshaped)) = &self.template
            && entity == before
        {
            let reshaped = *reshaped;
            *entity = Data::Shared(after.clone());
            if last {
                (self.answer, self.template) = (None, None);
            }
            return reshaped;
        }
        if last {
            return self.answer.take().is_some_and(|answer| deep_merge(entity, answer));
        }
        let answer = self.answer.as_ref().expect("checked above");
        if self.template.is_some() || !flat(entity) {
            return merge_copy(entity, answer);
        }
        let before = entity.clone();
        let reshaped = merge_copy(entity, answer);
        if let Some(object) = entity.as_object_mut() {
            let after = Arc::new(std::mem::take(object));
            *entity = Data::Shared(after.clone());
            self.template = Some((before, after, reshaped));
        }
        reshaped
    }
}

/// An object whose fields are all leaves.
fn flat(value: &Data) -> bool {
    value.as_object().is_some_and(|o| o.iter().all(|(_, v)| !v.is_composite()))
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
    fn objects_sharing_an_answer_each_end_as_their_own_merge_would() {
        let answer = json!({ "__typename": "Product", "name": "Pen", "tags": [{ "t": 1 }], "upc": "1" });
        let objects = [
            json!({ "__typename": "Product", "upc": "1" }),
            json!({ "__typename": "Product", "upc": "1" }),
            json!({ "__typename": "Product", "upc": "1", "note": "own" }),
            json!({ "__typename": "Product", "upc": "1", "tags": [{ "u": 1 }, { "u": 2 }] }),
            json!({ "__typename": "Product", "upc": "1" }),
            json!({ "__typename": "Product", "upc": "1" }),
        ];
        let mut shared = Shared::new(Data::from(answer.clone()), objects.len());
        for object in &objects {
            let mut given = Data::from(object.clone());
            let mut merged = Data::from(object.clone());
            let reshaped = deep_merge(&mut merged, Data::from(answer.clone()));
            assert_eq!(shared.give(&mut given), reshaped, "{object}");
            assert_eq!(Value::from(&given), Value::from(&merged), "{object}");
        }
        let mut one_more = Data::from(objects[0].clone());
        assert!(!shared.give(&mut one_more));
        assert_eq!(Value::from(&one_more), objects[0], "past its uses, an answer gives nothing");
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
