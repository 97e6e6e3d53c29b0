//! Costs counted on the parsed document, before it is validated or normalized: what the
//! operation would expand to once fragments are inlined, and its directives.
//!
//! Normalizing inlines every fragment spread. A fragment that spreads the next one twice, N
//! deep, expands to 2^N selections: about 900 bytes of query text could keep a worker busy for
//! seconds, then run out of memory. So the expansion is counted first, in time linear in the
//! document: each fragment's size is computed once (memoized) and multiplied by its uses, with
//! saturating arithmetic, and an operation over the bound is refused before anything expands.

use std::collections::HashMap;

use graphql_tools::parser::query::{Definition, Document, OperationDefinition, Selection, SelectionSet};

use super::Limits;
use crate::error::RouterError;

type Doc = Document<'static, String>;
type Set = SelectionSet<'static, String>;

/// Checks the document's expanded size and its directive count against `limits`.
pub fn check(doc: &Doc, limits: &Limits) -> Result<(), RouterError> {
    let directives = directives(doc);
    if directives > limits.max_directives {
        return Err(RouterError::MaxDirectives { directives, limit: limits.max_directives });
    }
    let selections = expanded_selections(doc);
    if selections > limits.max_selections as u64 {
        return Err(RouterError::MaxSelections { limit: limits.max_selections });
    }
    Ok(())
}

/// The most selections any one operation (or fragment, used or not: validation walks them all)
/// would hold with every spread inlined.
pub fn expanded_selections(doc: &Doc) -> u64 {
    let fragments: HashMap<&str, &Set> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), &f.selection_set)),
            Definition::Operation(_) => None,
        })
        .collect();
    let mut counter = Counter { fragments: &fragments, sizes: HashMap::new(), open: Vec::new() };
    let mut most = 0u64;
    for def in &doc.definitions {
        let size = match def {
            Definition::Operation(op) => counter.set(operation_set(op)),
            Definition::Fragment(f) => counter.fragment(f.name.as_str()),
        };
        most = most.max(size);
    }
    most
}

struct Counter<'a> {
    fragments: &'a HashMap<&'a str, &'a Set>,
    sizes: HashMap<&'a str, u64>,
    /// Fragments being counted: a spread of one of them is a cycle, which validation refuses;
    /// it counts nothing here.
    open: Vec<&'a str>,
}

impl<'a> Counter<'a> {
    fn set(&mut self, set: &'a Set) -> u64 {
        set.items.iter().fold(0u64, |total, item| {
            let size = match item {
                Selection::Field(f) => 1u64.saturating_add(self.set(&f.selection_set)),
                Selection::InlineFragment(i) => self.set(&i.selection_set),
                Selection::FragmentSpread(s) => self.fragment(s.fragment_name.as_str()),
            };
            total.saturating_add(size)
        })
    }

    fn fragment(&mut self, name: &'a str) -> u64 {
        if let Some(size) = self.sizes.get(name) {
            return *size;
        }
        let Some(set) = self.fragments.get(name).copied() else { return 0 };
        if self.open.contains(&name) {
            return 0;
        }
        self.open.push(name);
        let size = self.set(set);
        self.open.pop();
        self.sizes.insert(name, size);
        size
    }
}

fn operation_set<'a>(op: &'a OperationDefinition<'static, String>) -> &'a Set {
    match op {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    }
}

/// Directives as written in the document (operations and fragments, each counted once).
fn directives(doc: &Doc) -> usize {
    fn in_set(set: &Set) -> usize {
        set.items
            .iter()
            .map(|item| match item {
                Selection::Field(f) => f.directives.len() + in_set(&f.selection_set),
                Selection::InlineFragment(i) => i.directives.len() + in_set(&i.selection_set),
                Selection::FragmentSpread(s) => s.directives.len(),
            })
            .sum()
    }
    doc.definitions
        .iter()
        .map(|d| match d {
            Definition::Fragment(f) => f.directives.len() + in_set(&f.selection_set),
            Definition::Operation(op) => {
                let own = match op {
                    OperationDefinition::SelectionSet(_) => 0,
                    OperationDefinition::Query(q) => q.directives.len(),
                    OperationDefinition::Mutation(m) => m.directives.len(),
                    OperationDefinition::Subscription(s) => s.directives.len(),
                };
                own + in_set(operation_set(op))
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Doc {
        graphql_tools::parser::parse_query::<String>(query).expect("parses").into_static()
    }

    /// `fragment F0 on T { ...F1 ...F1 } … fragment Fn on T { id }`: 2^n selections.
    pub fn bomb(n: usize) -> String {
        let mut q = String::from("{ products { ...F0 } }\n");
        for i in 0..n {
            q.push_str(&format!("fragment F{i} on Product {{ ...F{} ...F{} }}\n", i + 1, i + 1));
        }
        q.push_str(&format!("fragment F{n} on Product {{ id }}\n"));
        q
    }

    #[test]
    fn a_doubling_fragment_chain_counts_two_to_the_n_without_expanding_it() {
        assert_eq!(expanded_selections(&parse(&bomb(3))), 1 + 8);
        // 2^60 would not fit in memory; counting it takes microseconds.
        assert_eq!(expanded_selections(&parse(&bomb(60))), 1 + (1u64 << 60));
        assert_eq!(expanded_selections(&parse(&bomb(70))), u64::MAX, "saturates instead of overflowing");
    }

    #[test]
    fn plain_fields_inline_fragments_and_cycles_count_as_written() {
        assert_eq!(expanded_selections(&parse("{ a { b c ... on X { d } } }")), 4);
        assert_eq!(expanded_selections(&parse("{ a { ...A } } fragment A on T { b ...A }")), 2);
    }

    #[test]
    fn directives_are_counted_in_operations_and_fragments() {
        let doc = parse("query Q @a { x @skip(if: true) ...F @b } fragment F on T @c { y @d @e }");
        assert_eq!(directives(&doc), 6);
    }
}
