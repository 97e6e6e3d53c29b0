//! Operation limits, each refused with its own code before anything is planned: tokens (while
//! parsing), then depth, aliases and root fields (on the normalized operation, so fragments
//! cannot hide depth).

use hive_router_query_planner::ast::{
    operation::OperationDefinition, selection_item::SelectionItem, selection_set::SelectionSet,
};
use serde_json::Value;

use crate::supergraph::coded;

/// The limits, configurable per deployment (`router.limits` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_tokens: usize,
}

/// Classifies a parse failure: a limit, or a plain syntax error.
pub fn parse_error(message: &str) -> Value {
    if message.contains("Token limit exceeded") {
        coded("The operation is too long (too many tokens).", "MAX_TOKENS_EXCEEDED")
    } else if message.contains("Recursion limit exceeded") {
        coded("The operation is nested too deeply to parse.", "MAX_DEPTH_EXCEEDED")
    } else {
        coded(&message.replace("query parse error: ", ""), "GRAPHQL_PARSE_FAILED")
    }
}

/// Checks depth, aliases and root fields.
pub fn check(op: &OperationDefinition, limits: &Limits) -> Result<(), Vec<Value>> {
    let mut errors = Vec::new();
    let depth = depth(&op.selection_set);
    if depth > limits.max_depth {
        errors.push(coded(
            &format!("The operation is {depth} levels deep; the limit is {}.", limits.max_depth),
            "MAX_DEPTH_EXCEEDED",
        ));
    }
    let aliases = aliases(&op.selection_set);
    if aliases > limits.max_aliases {
        errors.push(coded(
            &format!("The operation uses {aliases} aliases; the limit is {}.", limits.max_aliases),
            "MAX_ALIASES_EXCEEDED",
        ));
    }
    let roots = root_fields(&op.selection_set);
    if roots > limits.max_root_fields {
        errors.push(coded(
            &format!("The operation selects {roots} root fields; the limit is {}.", limits.max_root_fields),
            "MAX_ROOT_FIELDS_EXCEEDED",
        ));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn depth(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match item {
            SelectionItem::Field(f) if f.selections.items.is_empty() => 1,
            SelectionItem::Field(f) => 1 + depth(&f.selections),
            SelectionItem::InlineFragment(fr) => depth(&fr.selections),
            SelectionItem::FragmentSpread(_) => 0,
        })
        .max()
        .unwrap_or(0)
}

fn aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match item {
            SelectionItem::Field(f) => usize::from(f.alias.is_some()) + aliases(&f.selections),
            SelectionItem::InlineFragment(fr) => aliases(&fr.selections),
            SelectionItem::FragmentSpread(_) => 0,
        })
        .sum()
}

fn root_fields(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match item {
            SelectionItem::Field(f) => usize::from(!f.name.starts_with("__")),
            SelectionItem::InlineFragment(fr) => root_fields(&fr.selections),
            SelectionItem::FragmentSpread(_) => 0,
        })
        .sum()
}
