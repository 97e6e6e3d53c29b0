//! Costs counted on the parsed document, before it is validated or normalized: what the
//! operation would expand to once fragments are inlined (selections and depth), and its
//! directives.
//!
//! Normalizing inlines every fragment spread. A fragment that spreads the next one twice, N
//! deep, expands to 2^N selections: about 900 bytes of query text could keep a worker busy for
//! seconds, then run out of memory. A chain of fragments that each nest the next one field
//! deeper expands to hundreds of levels, past what the recursive validator and normalizer can
//! follow on a thread's stack, though the parser saw at most a few levels in each fragment. So
//! the expansion is counted first, in time linear in the document: each fragment's cost is
//! computed once (memoized) and reused at each spread, with saturating arithmetic, and an
//! operation over a bound is refused before anything expands.
//!
//! The overlapping-fields rule compares every pair of fields that share a response name in a
//! selection set (with those its fragments bring in): `{ signedIn signedIn … }` 4,900 times is
//! 12 million comparisons, 3 s of CPU for one 45 KB request, and then valid. So those pairs are
//! counted here too, from per-fragment tallies, and bounded (`max_field_pairs`).
//!
//! Fragment cycles are refused here too, as the spec's validation would: graphql-tools' rule
//! for overlapping fields follows a cycle such as `fragment F on T { a { a { ...F } ...F } }`
//! forever and overflows the stack, which aborts the process. No cycle may reach it.

use std::collections::HashMap;

use graphql_tools::parser::{
    Pos,
    query::{Definition, Document, OperationDefinition, Selection, SelectionSet},
};

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
    let (cost, cycle) = measure(doc);
    if let Some((name, at)) = cycle {
        return Err(RouterError::ValidationFailed {
            message: format!("Cannot spread fragment \"{name}\" within itself."),
            locations: vec![(at.line, at.column)],
        });
    }
    if cost.depth > limits.max_depth {
        return Err(RouterError::MaxDepth { depth: cost.depth, limit: limits.max_depth });
    }
    if cost.selections > limits.max_selections as u64 {
        return Err(RouterError::MaxSelections { limit: limits.max_selections });
    }
    let pairs = field_pairs(doc);
    if pairs > limits.max_field_pairs as u64 {
        return Err(RouterError::MaxFieldPairs { limit: limits.max_field_pairs });
    }
    Ok(())
}

/// Pairs of fields that share a response name, summed over every selection set of the document
/// (a set's fields include those its inline fragments and spreads bring in, as the
/// overlapping-fields rule collects them). Run after cycles are refused.
fn field_pairs(doc: &Doc) -> u64 {
    let fragments = fragments(doc);
    let mut pairs = Pairs { fragments: &fragments, tallies: HashMap::new(), open: Vec::new(), total: 0 };
    for def in &doc.definitions {
        match def {
            Definition::Operation(op) => pairs.set(operation_set(op)),
            Definition::Fragment(f) => pairs.set(&f.selection_set),
        }
    }
    pairs.total
}

struct Pairs<'a> {
    fragments: &'a HashMap<&'a str, &'a Set>,
    /// Per fragment: how many fields of each response name it brings into a set.
    tallies: HashMap<&'a str, std::rc::Rc<HashMap<&'a str, u64>>>,
    open: Vec<&'a str>,
    total: u64,
}

impl<'a> Pairs<'a> {
    /// Adds the pairs of `set` (and of every set nested in it) to the total.
    fn set(&mut self, set: &'a Set) {
        let tally = self.collect(set);
        for n in tally.values() {
            self.total = self.total.saturating_add(n.saturating_mul(n.saturating_sub(1)) / 2);
        }
    }

    /// The response names `set` collects, counted; nested field sets are added to the total.
    fn collect(&mut self, set: &'a Set) -> HashMap<&'a str, u64> {
        let mut tally: HashMap<&'a str, u64> = HashMap::new();
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    let name = f.alias.as_deref().unwrap_or(f.name.as_str());
                    *tally.entry(name).or_default() += 1;
                    if !f.selection_set.items.is_empty() {
                        self.set(&f.selection_set);
                    }
                }
                Selection::InlineFragment(i) => {
                    for (name, n) in self.collect(&i.selection_set) {
                        let entry = tally.entry(name).or_default();
                        *entry = entry.saturating_add(n);
                    }
                }
                Selection::FragmentSpread(s) => {
                    for (name, n) in self.fragment(s.fragment_name.as_str()).iter() {
                        let entry = tally.entry(name).or_default();
                        *entry = entry.saturating_add(*n);
                    }
                }
            }
        }
        tally
    }

    fn fragment(&mut self, name: &'a str) -> std::rc::Rc<HashMap<&'a str, u64>> {
        if let Some(tally) = self.tallies.get(name) {
            return tally.clone();
        }
        let Some(set) = self.fragments.get(name).copied() else { return Default::default() };
        if self.open.contains(&name) {
            return Default::default();
        }
        self.open.push(name);
        // Nested sets inside the fragment are counted where the fragment is defined, once.
        let before = self.total;
        let tally = std::rc::Rc::new(self.collect(set));
        self.total = before;
        self.open.pop();
        self.tallies.insert(name, tally.clone());
        tally
    }
}

/// What a selection set holds with every spread inlined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub selections: u64,
    /// Fields nested in fields, as `limits::check` counts depth on the normalized operation.
    pub depth: usize,
}

/// The greatest cost of any one operation (or fragment, used or not: validation walks them
/// all), each measure taken on its own.
pub fn expanded(doc: &Doc) -> Cost {
    measure(doc).0
}

/// [`expanded`], and the first fragment spread that closes a cycle (its name and position).
fn measure(doc: &Doc) -> (Cost, Option<(String, Pos)>) {
    let fragments = fragments(doc);
    let mut counter = Counter { fragments: &fragments, costs: HashMap::new(), open: Vec::new(), cycle: None };
    let mut most = Cost::default();
    for def in &doc.definitions {
        let cost = match def {
            Definition::Operation(op) => counter.set(operation_set(op)),
            Definition::Fragment(f) => counter.fragment(f.name.as_str()),
        };
        most = Cost { selections: most.selections.max(cost.selections), depth: most.depth.max(cost.depth) };
    }
    (most, counter.cycle)
}

#[cfg(test)]
fn expanded_selections(doc: &Doc) -> u64 {
    expanded(doc).selections
}

struct Counter<'a> {
    fragments: &'a HashMap<&'a str, &'a Set>,
    costs: HashMap<&'a str, Cost>,
    /// Fragments being counted: a spread of one of them is a cycle. It counts nothing, and the
    /// first one found is kept to refuse the document.
    open: Vec<&'a str>,
    cycle: Option<(String, Pos)>,
}

impl<'a> Counter<'a> {
    fn set(&mut self, set: &'a Set) -> Cost {
        set.items.iter().fold(Cost::default(), |total, item| {
            let cost = match item {
                Selection::Field(f) => {
                    let inner = self.set(&f.selection_set);
                    Cost { selections: inner.selections.saturating_add(1), depth: inner.depth + 1 }
                }
                Selection::InlineFragment(i) => self.set(&i.selection_set),
                Selection::FragmentSpread(s) => {
                    let name = s.fragment_name.as_str();
                    if self.cycle.is_none() && self.open.contains(&name) {
                        self.cycle = Some((name.to_owned(), s.position));
                    }
                    self.fragment(name)
                }
            };
            Cost { selections: total.selections.saturating_add(cost.selections), depth: total.depth.max(cost.depth) }
        })
    }

    fn fragment(&mut self, name: &'a str) -> Cost {
        if let Some(cost) = self.costs.get(name) {
            return *cost;
        }
        let Some(set) = self.fragments.get(name).copied() else { return Cost::default() };
        if self.open.contains(&name) {
            return Cost::default();
        }
        self.open.push(name);
        let cost = self.set(set);
        self.open.pop();
        self.costs.insert(name, cost);
        cost
    }
}

/// The document's fragments by name.
fn fragments(doc: &Doc) -> HashMap<&str, &Set> {
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), &f.selection_set)),
            Definition::Operation(_) => None,
        })
        .collect()
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
    fn a_chain_of_fragments_each_nesting_the_next_counts_its_inlined_depth() {
        let mut q = String::from("{ a { ...F0 } }\n");
        for i in 0..500 {
            q.push_str(&format!("fragment F{i} on T {{ b {{ ...F{} }} }}\n", i + 1));
        }
        q.push_str("fragment F500 on T { c }\n");
        assert_eq!(expanded(&parse(&q)), Cost { selections: 502, depth: 502 });
    }

    #[test]
    fn a_fragment_cycle_is_refused_before_the_validator_can_follow_it() {
        let limits = Limits::default();
        let doc = parse("{ a } fragment F0 on T { user { user { ...F0 } ...F0 } }");
        let Err(RouterError::ValidationFailed { message, locations }) = check(&doc, &limits) else {
            panic!("a cycle is refused");
        };
        assert_eq!((message.as_str(), locations), ("Cannot spread fragment \"F0\" within itself.", vec![(1, 43)]));
        assert!(check(&parse("{ a { ...F0 } } fragment F0 on T { b }"), &limits).is_ok());
    }

    #[test]
    fn fields_sharing_a_response_name_are_counted_in_pairs_with_those_fragments_bring() {
        assert_eq!(field_pairs(&parse("{ a a a b }")), 3);
        assert_eq!(field_pairs(&parse("{ x: a x: b ... on T { x: c } }")), 3);
        // Two spreads of F bring two `id`s beside the set's own: three pairs.
        assert_eq!(field_pairs(&parse("{ id ...F ...F } fragment F on T { id }")), 3);
        // Nested sets count on their own; a fragment's inner sets count once, where it is defined.
        assert_eq!(field_pairs(&parse("{ a { b b } ...F ...F } fragment F on T { c { d d } }")), 1 + 1 + 1);
    }

    #[test]
    fn directives_are_counted_in_operations_and_fragments() {
        let doc = parse("query Q @a { x @skip(if: true) ...F @b } fragment F on T @c { y @d @e }");
        assert_eq!(directives(&doc), 6);
    }
}
