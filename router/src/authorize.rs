//! Enforcing `@authenticated` and `@requiresScopes` before any subgraph is called.
//!
//! The normalized operation is walked against the supergraph. A field is unauthorized when it,
//! or the type it returns, is marked and the caller does not meet the mark: anonymous callers
//! meet no mark; `@requiresScopes(scopes: [[a, b], [c]])` needs every scope of at least one
//! inner list ("a and b, or c"). Unauthorized fields are removed from the operation that gets
//! planned, so no subgraph ever sees them. The client's response still has them, as null, with
//! an `UNAUTHENTICATED` (anonymous caller) or `FORBIDDEN` (missing role) error at their path.
//! In `reject` mode the whole operation is refused instead.

use hive_router_query_planner::{
    ast::{
        operation::OperationDefinition, selection_item::SelectionItem, selection_set::SelectionSet,
        value::Value as AstValue,
    },
    federation_spec::authorization::RequiresScopesDirective,
    state::supergraph_state::{SupergraphDefinition, SupergraphState},
};
use tessera_kit::jwt::Claims;

use crate::error::RouterError;

/// What authorization decided for one operation.
pub struct Verdict {
    /// The operation to plan: the client's minus every unauthorized field.
    pub operation: OperationDefinition,
    /// One error per unauthorized field, at its path.
    pub errors: Vec<RouterError>,
}

pub fn authorize(
    state: &SupergraphState,
    root_type: &str,
    operation: &OperationDefinition,
    caller: Option<&Claims>,
) -> Verdict {
    let mut pruned = operation.clone();
    let mut walker = Walker { state, caller, errors: Vec::new() };
    walker.selection_set(root_type, &mut pruned.selection_set, &mut Vec::new());
    Verdict { operation: pruned, errors: walker.errors }
}

struct Walker<'a> {
    state: &'a SupergraphState,
    caller: Option<&'a Claims>,
    errors: Vec<RouterError>,
}

impl Walker<'_> {
    fn selection_set(&mut self, type_name: &str, set: &mut SelectionSet, path: &mut Vec<String>) {
        set.items.retain_mut(|item| match item {
            SelectionItem::Field(field) => {
                if field.name.starts_with("__") {
                    return true;
                }
                let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                path.push(key);
                let keep = self.field(type_name, field, path);
                path.pop();
                keep
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = fragment.type_condition.clone();
                if !self.type_allowed(&condition) {
                    self.refuse(path, &condition);
                    return false;
                }
                self.selection_set(&condition, &mut fragment.selections, path);
                !fragment.selections.items.is_empty()
            }
            SelectionItem::FragmentSpread(_) => true,
        });
    }

    /// Whether `field` stays; recurses into its selections.
    fn field(
        &mut self,
        type_name: &str,
        field: &mut hive_router_query_planner::ast::selection_set::FieldSelection,
        path: &[String],
    ) -> bool {
        let Some(def) = self.state.definitions.get(type_name).and_then(|d| d.fields().get(&field.name)) else {
            return true;
        };
        let returns = def.field_type.inner_type().to_owned();
        let allowed = self.meets(!def.authenticated.is_empty(), &def.requires_scopes) && self.type_allowed(&returns);
        if !allowed {
            self.refuse(path, &format!("{type_name}.{}", field.name));
            return false;
        }
        if field.selections.items.is_empty() {
            return true;
        }
        let mut child_path = path.to_vec();
        self.selection_set(&returns, &mut field.selections, &mut child_path);
        // Every child was refused: a subgraph cannot be asked for an empty selection.
        !field.selections.items.is_empty()
    }

    fn type_allowed(&self, type_name: &str) -> bool {
        let (authenticated, scopes): (bool, &[RequiresScopesDirective]) = match self.state.definitions.get(type_name) {
            Some(SupergraphDefinition::Object(o)) => (!o.authenticated.is_empty(), &o.requires_scopes),
            Some(SupergraphDefinition::Interface(i)) => (!i.authenticated.is_empty(), &i.requires_scopes),
            Some(SupergraphDefinition::Scalar(s)) => (!s.authenticated.is_empty(), &s.requires_scopes),
            Some(SupergraphDefinition::Enum(e)) => (!e.authenticated.is_empty(), &e.requires_scopes),
            _ => (false, &[]),
        };
        self.meets(authenticated, scopes)
    }

    fn meets(&self, authenticated: bool, scopes: &[RequiresScopesDirective]) -> bool {
        if !authenticated && scopes.is_empty() {
            return true;
        }
        let Some(claims) = self.caller else { return false };
        scopes.iter().all(|directive| any_group_met(&directive.scopes, claims))
    }

    fn refuse(&mut self, path: &[String], what: &str) {
        // The stable codes of DESIGN.md: a missing sign-in and a missing role are told apart, so
        // a client knows whether to sign in or to give up.
        let (what, path) = (what.to_owned(), path.to_vec());
        self.errors.push(if self.caller.is_some() {
            RouterError::FieldForbidden { what, path }
        } else {
            RouterError::FieldNeedsSignIn { what, path }
        });
    }
}

/// `[[a, b], [c]]`: all of one inner list. A malformed value grants nothing.
fn any_group_met(scopes: &AstValue, claims: &Claims) -> bool {
    let AstValue::List(groups) = scopes else { return false };
    groups.iter().any(|group| match group {
        AstValue::List(required) => required.iter().all(|s| matches!(s, AstValue::String(s) if claims.has_scope(s))),
        _ => false,
    })
}
