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

/// Calls `f` on every object `path` reaches, in the order [`locate`] finds them, without
/// building their locations.
pub fn each<'d>(value: &'d Data, path: &[FlattenNodePathSegment], f: &mut impl FnMut(&'d Data)) {
    let Some((first, rest)) = path.split_first() else {
        match value {
            Data::Object(_) => f(value),
            Data::List(items) => items.iter().for_each(|item| each(item, path, f)),
            _ => {}
        }
        return;
    };
    match (first, value) {
        (FlattenNodePathSegment::Field(key), Data::Object(map)) => {
            if let Some(child) = map.get(key) {
                each(child, rest, f);
            }
        }
        (FlattenNodePathSegment::List, Data::List(items)) => items.iter().for_each(|item| each(item, rest, f)),
        (FlattenNodePathSegment::TypeCondition(types), Data::Object(_)) if typename_in(value, types) => {
            each(value, rest, f);
        }
        _ => {}
    }
}

/// [`each`], mutably.
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
