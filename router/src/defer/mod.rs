//! `@defer`: incremental delivery over multipart HTTP.
//!
//! How it works, in three parts:
//! - [`rewrite`] turns each `@defer` into an `@include` on a variable of its own, before
//!   normalization. One plan, cached once, then serves every execution below.
//! - [`Defers`] knows, from the normalized operation, which deferred fragment lies inside which
//!   (a nested one is delivered after its parent).
//! - [`deliver`] runs the initial execution (every deferred variable false) and one execution
//!   per deferred fragment (its variable and its ancestors' true) concurrently. The initial
//!   payload goes out as soon as its execution ends; each deferred payload as soon as its own
//!   ends and its parent's has gone out. The projection traces where each fragment applies
//!   (`project::Trace`) and captures its data there.
//!
//! The cost is one execution per deferred fragment, each of which repeats the fetches the
//! fragment's ancestors need; `router.limits.max_defers` bounds it. In return nothing deferred
//! waits for anything it does not depend on, and no new planner is needed.

mod deliver;
mod rewrite;
mod wire;

use std::collections::BTreeSet;

use graphql_tools::static_graphql::schema::Document as Schema;
use hive_router_query_planner::ast::{
    operation::OperationDefinition, selection_item::SelectionItem, selection_set::SelectionSet,
};
use serde_json::{Map, Value};

pub(crate) use deliver::deliver;
pub use rewrite::{Condition, Site, rewrite};
pub use wire::Format;

const DIRECTIVE: &str = r#"
"Delivers the fragment after the rest of the response, in a later part of a multipart response."
directive @defer(
  "Names the deferred payload, unique in the operation."
  label: String
  "When false, the fragment is not deferred."
  if: Boolean! = true
) on FRAGMENT_SPREAD | INLINE_FRAGMENT
"#;

/// The API schema with `@defer` declared, for validating documents.
pub fn with_directive(api: &Schema) -> Schema {
    let mut schema = api.clone();
    let defer = graphql_tools::parser::parse_schema::<String>(DIRECTIVE).expect("the @defer definition parses");
    schema.definitions.extend(defer.into_static().definitions);
    schema
}

/// An operation's deferred fragments.
#[derive(Debug, Clone, Default)]
pub struct Defers {
    pub sites: Vec<Site>,
    /// For each site, the sites it lies inside (wherever one of its fragments is spread).
    ancestors: Vec<BTreeSet<usize>>,
}

impl Defers {
    pub fn new(sites: Vec<Site>, operation: &OperationDefinition) -> Self {
        let mut ancestors = vec![BTreeSet::new(); sites.len()];
        if !sites.is_empty() {
            enclosing(&operation.selection_set, &sites, &mut Vec::new(), &mut ancestors);
        }
        Self { sites, ancestors }
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The sites deferred for this request: those whose `if:` holds.
    pub fn active(&self, variables: &Map<String, Value>) -> Vec<usize> {
        let holds = |c: &Condition| match c {
            Condition::Always => true,
            Condition::Never => false,
            // Coercion filled the variable's default; an absent one means `if:`'s own (true).
            Condition::Variable(v) => variables.get(v).and_then(Value::as_bool).unwrap_or(true),
        };
        (0..self.sites.len()).filter(|&i| holds(&self.sites[i].condition)).collect()
    }

    /// The active sites `site` lies inside.
    fn active_ancestors(&self, site: usize, active: &[usize]) -> Vec<usize> {
        self.ancestors[site].iter().copied().filter(|a| active.contains(a)).collect()
    }

    /// The variables of one execution: `on` (the fragments this execution delivers) and every
    /// inactive site included, every other active site left for its own execution.
    fn variables(&self, base: &Map<String, Value>, active: &[usize], on: &[usize]) -> Map<String, Value> {
        let mut variables = base.clone();
        for (i, site) in self.sites.iter().enumerate() {
            let included = !active.contains(&i) || on.contains(&i);
            variables.insert(site.var.clone(), Value::Bool(included));
        }
        variables
    }
}

/// Records, for each site's fragment found under `set`, the sites enclosing it.
fn enclosing(set: &SelectionSet, sites: &[Site], stack: &mut Vec<usize>, ancestors: &mut [BTreeSet<usize>]) {
    for item in &set.items {
        match item {
            SelectionItem::Field(f) => enclosing(&f.selections, sites, stack, ancestors),
            SelectionItem::InlineFragment(fragment) => {
                let site = fragment.include_if.as_ref().and_then(|var| sites.iter().position(|s| &s.var == var));
                if let Some(site) = site {
                    ancestors[site].extend(stack.iter().copied());
                    stack.push(site);
                }
                enclosing(&fragment.selections, sites, stack, ancestors);
                if site.is_some() {
                    stack.pop();
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}
