//! Tracing deferred fragments (`crate::defer`) while projecting: where the fragments a
//! response watches for sit, and the data and errors of the one it captures.

use hive_router_query_planner::ast::selection_set::SelectionSet;
use serde_json::Value;

use super::{Bubble, Projector, Seg, json_path};
use crate::data::{Data, Object};

/// What a projection noticed of deferred fragments (`crate::defer`) on its way: where the
/// fragments it watches for sit in the response, and the data of the one it captures.
#[derive(Debug, Default)]
pub struct Trace {
    /// The `@include` variables of the fragments to find, and where each was found.
    pub watch: Vec<String>,
    pub found: Vec<(String, Vec<Value>)>,
    /// The variable of the fragment to capture, and for each place it applies: its path, its
    /// data (null when a non-null field in it was null) and the errors under that path.
    pub capture: Option<String>,
    pub captured: Vec<(Vec<Value>, Value, Vec<Value>)>,
}

impl Projector<'_> {
    pub(super) fn trace_fragment<'s>(
        &mut self,
        var: &String,
        type_name: &str,
        selections: &'s SelectionSet,
        value: &Object,
        path: &mut Vec<Seg<'s>>,
    ) {
        let here = json_path(path);
        if self.trace.watch.contains(var) && !self.trace.found.iter().any(|(v, p)| v == var && *p == here) {
            self.trace.found.push((var.clone(), here.clone()));
        }
        if self.trace.capture.as_ref() != Some(var) {
            return;
        }
        // The fragment's own errors: those the subgraphs reported under its path, then the
        // ones projecting it adds. The whole operation's errors are kept aside meanwhile.
        let under = |e: &Value| e.get("path").and_then(Value::as_array).is_some_and(|p| p.starts_with(&here));
        let own: Vec<Value> = self.errors.iter().filter(|e| under(e)).cloned().collect();
        let kept = std::mem::replace(&mut *self.errors, own);
        let mut out = Object::new();
        let data = match self.selections_into(type_name, selections, value, path, &mut out) {
            Ok(()) => Value::from(&Data::Object(out)),
            Err(Bubble) => Value::Null,
        };
        let errors = std::mem::replace(&mut *self.errors, kept);
        self.trace.captured.push((here, data, errors));
    }
}
