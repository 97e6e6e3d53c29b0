//! Finding the objects a `Flatten` path points at in the response tree.

use std::collections::BTreeSet;

use hive_router_query_planner::planner::plan_nodes::FlattenNodePathSegment;
use serde_json::Value;

use crate::data::Data;

/// One step from a value to a child: an object key (borrowed from the plan's path) or a list
/// index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

impl Step<'_> {
    pub fn to_json(self) -> Value {
        match self {
            Step::Key(k) => Value::String(k.to_owned()),
            Step::Index(i) => Value::from(i),
        }
    }
}

/// The locations of every object `path` reaches, as steps from the root.
pub fn locate<'p>(root: &Data, path: &'p [FlattenNodePathSegment]) -> Vec<Vec<Step<'p>>> {
    let mut found = Vec::new();
    walk(root, path, &mut Vec::new(), &mut found);
    found
}

fn walk<'p>(value: &Data, path: &'p [FlattenNodePathSegment], at: &mut Vec<Step<'p>>, found: &mut Vec<Vec<Step<'p>>>) {
    let Some((first, rest)) = path.split_first() else {
        if value.is_object() {
            found.push(at.clone());
        } else if let Data::List(items) = value {
            // A path ending on a list means every object in it.
            for (i, item) in items.iter().enumerate() {
                at.push(Step::Index(i));
                walk(item, path, at, found);
                at.pop();
            }
        }
        return;
    };
    match (first, value) {
        (FlattenNodePathSegment::Field(key), Data::Object(map)) => {
            if let Some(child) = map.get(key) {
                at.push(Step::Key(key));
                walk(child, rest, at, found);
                at.pop();
            }
        }
        (FlattenNodePathSegment::List, Data::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                at.push(Step::Index(i));
                walk(item, rest, at, found);
                at.pop();
            }
        }
        (FlattenNodePathSegment::TypeCondition(types), Data::Object(_)) if typename_in(value, types) => {
            walk(value, rest, at, found);
        }
        _ => {}
    }
}

/// Whether `value`'s runtime type is one of `types`. An object without `__typename` sits where
/// only one type can (the planner fetches `__typename` wherever the type is abstract), so a
/// type condition there is the position's own type (`... on Line` around a deferred field).
pub fn typename_in(value: &Data, types: &BTreeSet<String>) -> bool {
    value.get("__typename").and_then(Data::as_str).is_none_or(|t| types.contains(t))
}

/// The value at `steps`.
pub fn get<'v>(root: &'v Data, steps: &[Step]) -> Option<&'v Data> {
    steps.iter().try_fold(root, |v, step| match (step, v) {
        (Step::Key(k), Data::Object(map)) => map.get(k),
        (Step::Index(i), Data::List(items)) => items.get(*i),
        _ => None,
    })
}

/// Calls `f` on every object `path` reaches, in the order [`locate`] finds them, with its
/// position: the place of every step from the root (a field's among its object's fields, an
/// item's in its list), for [`at_mut`] to go straight back to it.
pub fn each_at<'d>(
    value: &'d Data,
    path: &[FlattenNodePathSegment],
    at: &mut Vec<u32>,
    f: &mut impl FnMut(&'d Data, &[u32]),
) {
    let mut items = |items: &'d [Data], path: &[FlattenNodePathSegment], at: &mut Vec<u32>| {
        for (i, item) in items.iter().enumerate() {
            at.push(u32::try_from(i).unwrap_or(u32::MAX));
            each_at(item, path, at, f);
            at.pop();
        }
    };
    let Some((first, rest)) = path.split_first() else {
        match value {
            Data::Object(_) => f(value, at),
            Data::List(list) => items(list, path, at),
            _ => {}
        }
        return;
    };
    match (first, value) {
        (FlattenNodePathSegment::Field(key), Data::Object(map)) => {
            if let Some((place, child)) = map.find(key) {
                at.push(u32::try_from(place).unwrap_or(u32::MAX));
                each_at(child, rest, at, f);
                at.pop();
            }
        }
        (FlattenNodePathSegment::List, Data::List(list)) => items(list, rest, at),
        (FlattenNodePathSegment::TypeCondition(types), Data::Object(_)) if typename_in(value, types) => {
            each_at(value, rest, at, f);
        }
        _ => {}
    }
}

/// The value at `position` (from [`each_at`]). Only meaningful while no object or list on the
/// way has been replaced since: adding fields at the end of objects moves nothing.
pub fn at_mut<'d>(root: &'d mut Data, position: &[u32]) -> Option<&'d mut Data> {
    position.iter().try_fold(root, |value, &place| match value {
        Data::Object(map) => map.at_mut(place as usize),
        Data::List(items) => items.get_mut(place as usize),
        _ => None,
    })
}

/// Calls `f` on every object `path` reaches, in the order [`each_at`] meets them, mutably.
pub fn each_mut(value: &mut Data, path: &[FlattenNodePathSegment], f: &mut impl FnMut(&mut Data)) {
    let Some((first, rest)) = path.split_first() else {
        match value {
            Data::Object(_) => f(value),
            Data::List(items) => items.iter_mut().for_each(|item| each_mut(item, path, f)),
            _ => {}
        }
        return;
    };
    match first {
        FlattenNodePathSegment::Field(key) => {
            if let Data::Object(map) = value
                && let Some(child) = map.get_mut(key)
            {
                each_mut(child, rest, f);
            }
        }
        FlattenNodePathSegment::List => {
            if let Data::List(items) = value {
                items.iter_mut().for_each(|item| each_mut(item, rest, f));
            }
        }
        FlattenNodePathSegment::TypeCondition(types) => {
            if value.is_object() && typename_in(value, types) {
                each_mut(value, rest, f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::execute::merge::deep_merge;

    fn path(segments: &[&str]) -> Vec<FlattenNodePathSegment> {
        let segment = |s: &&str| match *s {
            "@" => FlattenNodePathSegment::List,
            key => FlattenNodePathSegment::Field(key.into()),
        };
        segments.iter().map(segment).collect()
    }

    /// The ids of the objects at `positions`.
    fn ids(tree: &mut Data, positions: &[Vec<u32>]) -> Vec<Option<String>> {
        positions
            .iter()
            .map(|p| at_mut(tree, p).and_then(|o| o.get("id")).and_then(Data::as_str).map(str::to_owned))
            .collect()
    }

    #[test]
    fn recorded_positions_lead_back_to_the_same_objects_after_merges_that_only_add() {
        let mut tree = Data::from(json!({
            "users": [
                { "id": "u1", "reviews": [{ "id": "r1", "product": { "id": "p1" } }, { "id": "r2", "product": null }] },
                { "id": "u2", "reviews": [{ "id": "r3", "product": { "id": "p2" } }] },
            ],
        }));
        let to_products = path(&["users", "@", "reviews", "@", "product"]);
        let mut positions = Vec::new();
        let mut met = Vec::new();
        each_at(&tree, &to_products, &mut Vec::new(), &mut |object, at| {
            positions.push(at.to_vec());
            met.push(object.get("id").and_then(Data::as_str).map(str::to_owned));
        });
        assert_eq!(met, [Some("p1".to_owned()), Some("p2".to_owned())], "the null product is skipped");
        assert_eq!(ids(&mut tree, &positions), met);

        // Another fetch's answer adds fields before and around them: nothing moves.
        let added = json!({
            "users": [
                { "name": "Ada", "reviews": [{ "body": "x", "product": { "name": "Pen" } }, { "body": "y", "product": { "id": "p9" } }] },
                { "name": "Bob", "reviews": [{ "body": "z" }] },
            ],
        });
        assert!(!deep_merge(&mut tree, Data::from(added)));
        assert_eq!(ids(&mut tree, &positions), met);
        assert_eq!(at_mut(&mut tree, &positions[0]).and_then(|o| o.get("name")), Some(&Data::String("Pen".into())));

        // A list of another length replaces the old one: the merge says so, and the positions
        // may now lead elsewhere (the caller then matches by representation instead).
        assert!(deep_merge(&mut tree, Data::from(json!({ "users": [{ "id": "u3" }] }))));
        assert_ne!(ids(&mut tree, &positions), met);
    }
}
