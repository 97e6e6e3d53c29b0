//! Operation limits, each refused with its own code before anything is planned: tokens (while
//! parsing), then directives and the fragment expansion (on the parsed document, before it is
//! validated or normalized: see `document`), then depth, aliases and root fields (on the
//! normalized operation, so fragments cannot hide depth).

pub mod document;

use hive_router_query_planner::ast::{
    operation::OperationDefinition, selection_item::SelectionItem, selection_set::SelectionSet,
};

use crate::error::RouterError;

/// The limits, configurable per deployment (`router.limits` in the configuration).
pub type Limits = tessera_kit::config::LimitsConfig;

/// Classifies a parse failure: a limit, or a plain syntax error.
pub fn parse_error(message: &str) -> RouterError {
    if message.contains("Token limit exceeded") {
        RouterError::MaxTokens
    } else if message.contains("Recursion limit exceeded") {
        RouterError::MaxParseDepth
    } else {
        RouterError::ParseFailed(message.replace("query parse error: ", ""))
    }
}

/// Checks depth, aliases and root fields.
pub fn check(op: &OperationDefinition, limits: &Limits) -> Result<(), Vec<RouterError>> {
    let mut errors = Vec::new();
    let depth = depth(&op.selection_set);
    if depth > limits.max_depth {
        errors.push(RouterError::MaxDepth { depth, limit: limits.max_depth });
    }
    let aliases = aliases(&op.selection_set);
    if aliases > limits.max_aliases {
        errors.push(RouterError::MaxAliases { aliases, limit: limits.max_aliases });
    }
    let roots = root_fields(&op.selection_set);
    if roots > limits.max_root_fields {
        errors.push(RouterError::MaxRootFields { roots, limit: limits.max_root_fields });
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
