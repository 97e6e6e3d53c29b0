//! Coercing the client's variables against the operation's variable definitions, before any
//! subgraph is called (the GraphQL spec's CoerceVariableValues). A missing required variable or
//! a value of the wrong type is refused with `BAD_USER_INPUT` naming the variable; defaults are
//! filled in so subgraphs see the same values the router checked.

use hive_router_query_planner::{
    ast::operation::OperationDefinition,
    state::supergraph_state::{SupergraphDefinition, SupergraphState, TypeNode},
};
use std::collections::HashSet;

use graphql_tools::parser::schema::{Definition, Document, TypeDefinition};
use serde_json::{Map, Value};

use crate::error::RouterError;

/// The (input type, field) pairs that declare a default value in the supergraph.
#[derive(Debug, Default)]
pub struct InputDefaults(HashSet<(String, String)>);

impl InputDefaults {
    pub fn of(doc: &Document<'static, String>) -> Self {
        let mut set = HashSet::new();
        for def in &doc.definitions {
            if let Definition::TypeDefinition(TypeDefinition::InputObject(io)) = def {
                for field in io.fields.iter().filter(|f| f.default_value.is_some()) {
                    set.insert((io.name.clone(), field.name.clone()));
                }
            }
        }
        Self(set)
    }

    fn has(&self, input: &str, field: &str) -> bool {
        self.0.contains(&(input.to_owned(), field.to_owned()))
    }
}

/// What [`check`] needs from the supergraph.
struct Schema<'a> {
    state: &'a SupergraphState,
    defaults: &'a InputDefaults,
}

pub fn coerce(
    state: &SupergraphState,
    defaults: &InputDefaults,
    op: &OperationDefinition,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<RouterError>> {
    let schema = Schema { state, defaults };
    let mut out = given.clone();
    let mut errors = Vec::new();
    for def in op.variable_definitions.iter().flatten() {
        let name = &def.name;
        match given.get(name) {
            None => match &def.default_value {
                Some(default) => {
                    out.insert(name.clone(), literal(default));
                }
                None if def.variable_type.is_non_null() => {
                    errors.push(variable_error(name, &format!("a value of type {} is required", def.variable_type)));
                }
                None => {}
            },
            Some(value) => {
                if let Err(why) = check(&schema, &def.variable_type, value) {
                    errors.push(variable_error(name, &why));
                }
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// A default value from the operation as the JSON a client would have sent. (The planner's
/// value type serializes as a tagged enum, `{"Boolean": true}`, which is not that JSON: a
/// `@skip(if: $v)` with `$v = true` by default then skipped nothing.)
fn literal(value: &hive_router_query_planner::ast::value::Value) -> Value {
    use hive_router_query_planner::ast::value::Value as Ast;
    match value {
        Ast::Variable(_) | Ast::Null => Value::Null,
        Ast::Int(n) => Value::from(*n),
        Ast::Float(f) => Value::from(*f),
        Ast::String(s) | Ast::Enum(s) => Value::from(s.as_str()),
        Ast::Boolean(b) => Value::Bool(*b),
        Ast::List(items) => Value::Array(items.iter().map(literal).collect()),
        Ast::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), literal(v))).collect()),
    }
}

fn variable_error(name: &str, why: &str) -> RouterError {
    RouterError::BadVariable { name: name.to_owned(), why: why.to_owned() }
}

fn check(schema: &Schema, ty: &TypeNode, value: &Value) -> Result<(), String> {
    match (ty, value) {
        (TypeNode::NonNull(_), Value::Null) => Err(format!("{ty} cannot be null")),
        (TypeNode::NonNull(inner), v) => check(schema, inner, v),
        (_, Value::Null) => Ok(()),
        (TypeNode::List(inner), Value::Array(items)) => items.iter().try_for_each(|item| check(schema, inner, item)),
        // A single value where a list is expected is coerced to a list of one.
        (TypeNode::List(inner), v) => check(schema, inner, v),
        (TypeNode::Named(name), v) => check_named(schema, name, v),
    }
}

fn check_named(schema: &Schema, name: &str, v: &Value) -> Result<(), String> {
    let state = schema.state;
    let ok = match name {
        "Int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "Float" => v.is_number(),
        "String" => v.is_string(),
        "Boolean" => v.is_boolean(),
        "ID" => v.is_string() || v.as_i64().is_some(),
        _ => match state.definitions.get(name) {
            Some(SupergraphDefinition::Enum(e)) => v.as_str().is_some_and(|s| e.values.iter().any(|ev| ev.name == s)),
            Some(SupergraphDefinition::InputObject(io)) => {
                let Value::Object(fields) = v else { return Err(format!("{name} must be an object")) };
                if let Some(unknown) = fields.keys().find(|k| !io.fields.contains_key(*k)) {
                    return Err(format!("{name} has no field `{unknown}`"));
                }
                for (field, def) in &io.fields {
                    match fields.get(field) {
                        Some(value) => {
                            check(schema, &def.field_type, value).map_err(|e| format!("{name}.{field}: {e}"))?
                        }
                        // The subgraph applies the default; the router only must not refuse it.
                        None if def.field_type.is_non_null() && !schema.defaults.has(name, field) => {
                            return Err(format!("{name}.{field} is required"));
                        }
                        None => {}
                    }
                }
                true
            }
            // Custom scalars (DateTime, …) are the subgraph's to parse.
            _ => true,
        },
    };
    if ok { Ok(()) } else { Err(format!("expected {name}, got {v}")) }
}

#[cfg(test)]
mod tests {
    use hive_router_query_planner::ast::value::Value as Ast;
    use serde_json::json;

    use super::literal;

    #[test]
    fn an_operation_default_becomes_the_json_a_client_would_send() {
        assert_eq!(literal(&Ast::Boolean(true)), json!(true));
        assert_eq!(literal(&Ast::Enum("OPEN".into())), json!("OPEN"));
        let object = Ast::Object(
            [("first".to_owned(), Ast::Int(2)), ("tags".to_owned(), Ast::List(vec![Ast::String("a".into())]))].into(),
        );
        assert_eq!(literal(&object), json!({ "first": 2, "tags": ["a"] }));
    }
}
