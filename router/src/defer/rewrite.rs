//! `@defer` turned into something the planner already plans: each deferred fragment gets an
//! `@include(if: $var)` on a variable of its own. The planner puts conditions on variables
//! into the plan (`Include(if: $var)` around the fetches only that fragment needs), so one plan,
//! cached once, serves every execution a deferred response needs: the initial one with every
//! deferred fragment's variable false, and one per deferred fragment with it (and its
//! ancestors) true. Defaults are `true`, so every other path (a mutation, a subscription, a
//! client that does not read multipart) answers the whole operation at once, which the
//! incremental delivery spec allows.
//!
//! This runs on the parsed document after validation (so `@defer`'s own arguments were checked
//! against its definition) and before normalization (which keeps `@include` but not `@defer`).

use graphql_tools::static_graphql::query::{
    Definition, Directive, Document, InlineFragment, OperationDefinition, Query, Selection, SelectionSet, Type, Value,
    VariableDefinition,
};

use crate::error::RouterError;

/// One `@defer` as written: the variable that stands for it after the rewrite, and its
/// arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub var: String,
    pub label: Option<String>,
    pub condition: Condition,
}

/// `@defer(if:)`: whether the fragment is deferred.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Always,
    Never,
    Variable(String),
}

/// Rewrites every `@defer` in `doc` and returns the sites in document order. A document
/// without one is left as it is.
pub fn rewrite(doc: &mut Document, max_defers: usize) -> Result<Vec<Site>, RouterError> {
    let prefix = free_prefix(doc);
    let mut sites = Vec::new();
    for definition in &mut doc.definitions {
        let set = match definition {
            Definition::Fragment(f) => &mut f.selection_set,
            Definition::Operation(op) => operation_set(op),
        };
        rewrite_set(set, &prefix, &mut sites)?;
    }
    if sites.len() > max_defers {
        return Err(RouterError::MaxDefers { defers: sites.len(), limit: max_defers });
    }
    let mut labels: Vec<&str> = sites.iter().filter_map(|s| s.label.as_deref()).collect();
    labels.sort_unstable();
    if let Some(pair) = labels.windows(2).find(|w| w[0] == w[1]) {
        return Err(RouterError::ValidationFailed {
            message: format!("The label \"{}\" is used by more than one @defer; labels must be unique.", pair[0]),
            locations: Vec::new(),
        });
    }
    if !sites.is_empty() {
        declare(doc, &sites);
    }
    Ok(sites)
}

fn operation_set(op: &mut OperationDefinition) -> &mut SelectionSet {
    match op {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &mut q.selection_set,
        OperationDefinition::Mutation(m) => &mut m.selection_set,
        OperationDefinition::Subscription(s) => &mut s.selection_set,
    }
}

/// A variable-name prefix no variable of the document starts with.
fn free_prefix(doc: &Document) -> String {
    let text = doc.to_string();
    (0..).map(|n| format!("tesseraDefer{n}_")).find(|p| !text.contains(p.as_str())).expect("some prefix is free")
}

fn rewrite_set(set: &mut SelectionSet, prefix: &str, sites: &mut Vec<Site>) -> Result<(), RouterError> {
    for item in &mut set.items {
        match item {
            Selection::Field(f) => {
                if f.directives.iter().any(|d| d.name == "defer") {
                    return Err(misplaced());
                }
                rewrite_set(&mut f.selection_set, prefix, sites)?;
            }
            Selection::InlineFragment(fragment) => {
                rewrite_set(&mut fragment.selection_set, prefix, sites)?;
                if let Some(defer) = take_defer(&mut fragment.directives) {
                    let var = site(defer, prefix, sites)?;
                    let inner = InlineFragment {
                        position: fragment.position,
                        type_condition: None,
                        directives: vec![include(&var)],
                        selection_set: std::mem::replace(&mut fragment.selection_set, empty(set.span)),
                    };
                    fragment.selection_set.items.push(Selection::InlineFragment(inner));
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(defer) = take_defer(&mut spread.directives) {
                    let var = site(defer, prefix, sites)?;
                    // The spread's other directives (`@skip`, `@include`) go on a wrapper, so
                    // the spread itself carries only the deferral's condition.
                    let mut inner = spread.clone();
                    inner.directives = vec![include(&var)];
                    let wrapper = InlineFragment {
                        position: spread.position,
                        type_condition: None,
                        directives: std::mem::take(&mut spread.directives),
                        selection_set: SelectionSet { span: set.span, items: vec![Selection::FragmentSpread(inner)] },
                    };
                    *item = Selection::InlineFragment(wrapper);
                }
            }
        }
    }
    Ok(())
}

fn empty(span: (graphql_tools::parser::Pos, graphql_tools::parser::Pos)) -> SelectionSet {
    SelectionSet { span, items: Vec::new() }
}

fn misplaced() -> RouterError {
    RouterError::ValidationFailed {
        message: "@defer may be used on fragment spreads and inline fragments only.".into(),
        locations: Vec::new(),
    }
}

fn take_defer(directives: &mut Vec<Directive>) -> Option<Directive> {
    let at = directives.iter().position(|d| d.name == "defer")?;
    Some(directives.remove(at))
}

fn include(var: &str) -> Directive {
    Directive {
        position: Default::default(),
        name: "include".into(),
        arguments: vec![("if".into(), Value::Variable(var.into()))],
    }
}

/// Records a site for `defer` and returns its variable.
fn site(defer: Directive, prefix: &str, sites: &mut Vec<Site>) -> Result<String, RouterError> {
    let mut label = None;
    let mut condition = Condition::Always;
    for (name, value) in defer.arguments {
        match (name.as_str(), value) {
            ("label", Value::String(s)) => label = Some(s),
            ("label", Value::Null) => {}
            ("label", _) => {
                return Err(RouterError::ValidationFailed {
                    message: "@defer's label must be a string written in the operation, not a variable.".into(),
                    locations: Vec::new(),
                });
            }
            ("if", Value::Boolean(false)) => condition = Condition::Never,
            ("if", Value::Variable(v)) => condition = Condition::Variable(v),
            _ => {}
        }
    }
    let var = format!("{prefix}{}", sites.len());
    sites.push(Site { var: var.clone(), label, condition });
    Ok(var)
}

/// Declares every site's variable, defaulting to `true` (not deferred), on every operation:
/// normalization keeps only the operation that runs, and validation has already passed.
fn declare(doc: &mut Document, sites: &[Site]) {
    let definitions = || {
        sites.iter().map(|s| VariableDefinition {
            position: Default::default(),
            name: s.var.clone(),
            var_type: Type::NonNullType(Box::new(Type::NamedType("Boolean".into()))),
            default_value: Some(Value::Boolean(true)),
        })
    };
    for definition in &mut doc.definitions {
        let Definition::Operation(op) = definition else { continue };
        if let OperationDefinition::SelectionSet(set) = op {
            let selection_set = std::mem::replace(set, empty(set.span));
            *op = OperationDefinition::Query(Query {
                position: Default::default(),
                name: None,
                variable_definitions: Vec::new(),
                directives: Vec::new(),
                selection_set,
            });
        }
        match op {
            OperationDefinition::Query(q) => q.variable_definitions.extend(definitions()),
            OperationDefinition::Mutation(m) => m.variable_definitions.extend(definitions()),
            OperationDefinition::Subscription(s) => s.variable_definitions.extend(definitions()),
            OperationDefinition::SelectionSet(_) => unreachable!("replaced by a query above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(query: &str) -> (String, Vec<Site>) {
        let mut doc = graphql_tools::parser::parse_query::<String>(query).expect("parses").into_static();
        let sites = rewrite(&mut doc, 8).expect("rewrites");
        (doc.to_string(), sites)
    }

    #[test]
    fn a_deferred_inline_fragment_becomes_an_include_on_a_variable_of_its_own() {
        let (text, sites) = rewritten(r#"{ a { id ... on A @defer(label: "slow") { b } } }"#);
        assert!(text.contains("query($tesseraDefer0_0: Boolean! = true)"), "{text}");
        assert!(text.contains("... on A {\n      ... @include(if: $tesseraDefer0_0) {\n        b"), "{text}");
        assert_eq!(
            sites,
            vec![Site { var: "tesseraDefer0_0".into(), label: Some("slow".into()), condition: Condition::Always }]
        );
    }

    #[test]
    fn a_deferred_spread_keeps_its_other_directives_on_a_wrapper() {
        let (text, sites) = rewritten(
            "query Q($x: Boolean!, $d: Boolean) { a { ...F @defer(if: $d) @skip(if: $x) } } fragment F on A { b }",
        );
        assert!(text.contains("... @skip(if: $x) {\n      ...F @include(if: $tesseraDefer0_0)"), "{text}");
        assert_eq!(sites[0].condition, Condition::Variable("d".into()));
    }

    #[test]
    fn defer_on_a_field_a_repeated_label_and_too_many_defers_are_refused() {
        let refuse = |q: &str, max| {
            let mut doc = graphql_tools::parser::parse_query::<String>(q).expect("parses").into_static();
            rewrite(&mut doc, max).expect_err("refused")
        };
        assert!(matches!(refuse("{ a @defer { b } }", 8), RouterError::ValidationFailed { .. }));
        assert!(matches!(
            refuse(r#"{ a { ... @defer(label: "x") { b } ... @defer(label: "x") { c } } }"#, 8),
            RouterError::ValidationFailed { .. }
        ));
        assert_eq!(
            refuse("{ a { ... @defer { b } ... @defer { c } } }", 1),
            RouterError::MaxDefers { defers: 2, limit: 1 }
        );
    }

    #[test]
    fn a_document_whose_variables_use_the_prefix_gets_another() {
        let (text, _) = rewritten("query($tesseraDefer0_0: Int) { a(n: $tesseraDefer0_0) { ... @defer { b } } }");
        assert!(text.contains("$tesseraDefer1_0: Boolean! = true"), "{text}");
    }
}
