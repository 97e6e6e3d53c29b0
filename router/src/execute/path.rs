//! Finding the objects a `Flatten` path points at in the response tree.

use std::collections::BTreeSet;

use hive_router_query_planner::planner::plan_nodes::FlattenNodePathSegment;
use serde_json::Value;

/// One step from a value to a child: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl Step {
    pub fn to_json(&self) -> Value {
        match self {
            Step::Key(k) => Value::String(k.clone()),
            Step::Index(i) => Value::from(*i),
        }
    }
}

/// The locations of every object `path` reaches, as steps from the root.
pub fn locate(root: &Value, path: &[FlattenNodePathSegment]) -> Vec<Vec<Step>> {
    let mut found = Vec::new();
    walk(root, path, &mut Vec::new(), &mut found);
    found
}

fn walk(value: &Value, path: &[FlattenNodePathSegment], at: &mut Vec<Step>, found: &mut Vec<Vec<Step>>) {
    let Some((first, rest)) = path.split_first() else {
        if value.is_object() {
            found.push(at.clone());
        } else if let Value::Array(items) = value {
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
        (FlattenNodePathSegment::Field(key), Value::Object(map)) => {
            if let Some(child) = map.get(key) {
                at.push(Step::Key(key.clone()));
                walk(child, rest, at, found);
                at.pop();
            }
        }
        (FlattenNodePathSegment::List, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                at.push(Step::Index(i));
                walk(item, rest, at, found);
                at.pop();
            }
        }
        (FlattenNodePathSegment::TypeCondition(types), Value::Object(_)) if typename_in(value, types) => {
            walk(value, rest, at, found);
        }
        _ => {}
    }
}

/// Whether `value`'s runtime type is one of `types`. An object without `__typename` sits where
/// only one type can (the planner fetches `__typename` wherever the type is abstract), so a
/// type condition there is the position's own type (`... on Line` around a deferred field).
pub fn typename_in(value: &Value, types: &BTreeSet<String>) -> bool {
    value.get("__typename").and_then(Value::as_str).is_none_or(|t| types.contains(t))
}

/// The value at `steps`, mutably.
pub fn get_mut<'v>(root: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    steps.iter().try_fold(root, |v, step| match (step, v) {
        (Step::Key(k), Value::Object(map)) => map.get_mut(k),
        (Step::Index(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

pub fn get<'v>(root: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    steps.iter().try_fold(root, |v, step| match (step, v) {
        (Step::Key(k), Value::Object(map)) => map.get(k),
        (Step::Index(i), Value::Array(items)) => items.get(*i),
        _ => None,
    })
}
