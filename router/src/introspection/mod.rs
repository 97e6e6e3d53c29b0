//! Introspection of the API schema, answered by the router itself.
//!
//! The API schema (the supergraph minus join internals and `@inaccessible` elements, as the
//! planner derives it) is turned once into the introspection model: every type as `__Type`
//! would answer it, keyed by name, plus the meta types and directives every GraphQL schema has
//! (`meta.json`). An operation's `__schema`/`__type` fields are then answered by walking that
//! model along the (already validated, normalized) selection set.
//!
//! No second schema validator sits in between: a schema that is valid GraphQL (covariant
//! interface fields included, which async-graphql's dynamic schema refused) is introspected as
//! it is.

mod model;

use std::collections::HashMap;

use hive_router_query_planner::ast::{
    operation::OperationDefinition, selection_item::SelectionItem, selection_set::SelectionSet, value::Value as Arg,
};
use serde_json::{Map, Value as Json};

pub struct Introspection {
    /// Every type, as a full `__Type` object.
    types: HashMap<String, Json>,
    /// The `__Schema` object: root types as references, `types` and `directives` in full.
    schema: Json,
}

/// What a JSON object in the model stands for: it decides how each of its fields is followed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Schema,
    Type,
    Field,
    InputValue,
    EnumValue,
    Directive,
}

impl Kind {
    fn typename(self) -> &'static str {
        match self {
            Self::Schema => "__Schema",
            Self::Type => "__Type",
            Self::Field => "__Field",
            Self::InputValue => "__InputValue",
            Self::EnumValue => "__EnumValue",
            Self::Directive => "__Directive",
        }
    }

    /// The kind a field of this kind leads to; None for a leaf.
    fn child(self, field: &str) -> Option<Kind> {
        match (self, field) {
            (Self::Schema, "types" | "queryType" | "mutationType" | "subscriptionType") => Some(Self::Type),
            (Self::Schema, "directives") => Some(Self::Directive),
            (Self::Type, "interfaces" | "possibleTypes" | "ofType") => Some(Self::Type),
            (Self::Type, "fields") => Some(Self::Field),
            (Self::Type, "enumValues") => Some(Self::EnumValue),
            (Self::Type, "inputFields") => Some(Self::InputValue),
            (Self::Field | Self::Directive, "args") => Some(Self::InputValue),
            (Self::Field | Self::InputValue, "type") => Some(Self::Type),
            _ => None,
        }
    }
}

impl Introspection {
    pub fn new(api: &graphql_tools::static_graphql::schema::Document) -> Result<Self, String> {
        let (types, schema) = model::build(api)?;
        Ok(Self { types, schema })
    }

    /// Answers the introspection root fields of `operation`; returns its `data` object and
    /// errors. Other root fields are left to the caller.
    pub async fn answer(
        &self,
        operation: &OperationDefinition,
        variables: &Map<String, Json>,
    ) -> (Map<String, Json>, Vec<Json>) {
        let walk = Walk { model: self, variables };
        let mut data = Map::new();
        walk.roots(&operation.selection_set, &mut data);
        (data, Vec::new())
    }
}

struct Walk<'a> {
    model: &'a Introspection,
    variables: &'a Map<String, Json>,
}

impl Walk<'_> {
    fn roots(&self, selections: &SelectionSet, out: &mut Map<String, Json>) {
        for item in &selections.items {
            match item {
                SelectionItem::Field(f) if self.included(f.skip_if.as_deref(), f.include_if.as_deref()) => {
                    let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                    let value = match f.name.as_str() {
                        "__schema" => self.object(&self.model.schema, Kind::Schema, &f.selections),
                        "__type" => {
                            let name = f.arguments.as_ref().and_then(|a| a.get_argument("name")).map(|v| self.arg(v));
                            match name.as_ref().and_then(Json::as_str).and_then(|n| self.model.types.get(n)) {
                                Some(ty) => self.object(ty, Kind::Type, &f.selections),
                                None => Json::Null,
                            }
                        }
                        // `__typename` and the other root fields are not introspection's.
                        _ => continue,
                    };
                    out.insert(key, value);
                }
                SelectionItem::InlineFragment(i) if self.included(i.skip_if.as_deref(), i.include_if.as_deref()) => {
                    self.roots(&i.selections, out);
                }
                _ => {}
            }
        }
    }

    /// One model object along a selection set.
    fn object(&self, node: &Json, kind: Kind, selections: &SelectionSet) -> Json {
        // A type reference (`{ kind, name, ofType }`) stands for the named type in full.
        let node = match (kind, node.get("name").and_then(Json::as_str)) {
            (Kind::Type, Some(name)) => self.model.types.get(name).unwrap_or(node),
            _ => node,
        };
        let mut out = Map::new();
        self.fields(node, kind, selections, &mut out);
        Json::Object(out)
    }

    fn fields(&self, node: &Json, kind: Kind, selections: &SelectionSet, out: &mut Map<String, Json>) {
        for item in &selections.items {
            match item {
                SelectionItem::Field(f) if self.included(f.skip_if.as_deref(), f.include_if.as_deref()) => {
                    let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                    if f.name == "__typename" {
                        out.insert(key, Json::from(kind.typename()));
                        continue;
                    }
                    let raw = node.get(&f.name).unwrap_or(&Json::Null);
                    let value = match kind.child(&f.name) {
                        None => raw.clone(),
                        Some(child) => match raw {
                            Json::Array(items) => {
                                let all = f
                                    .arguments
                                    .as_ref()
                                    .and_then(|a| a.get_argument("includeDeprecated"))
                                    .is_some_and(|v| self.arg(v) == Json::Bool(true));
                                Json::Array(
                                    items
                                        .iter()
                                        .filter(|i| all || i.get("isDeprecated") != Some(&Json::Bool(true)))
                                        .map(|i| self.object(i, child, &f.selections))
                                        .collect(),
                                )
                            }
                            Json::Null => Json::Null,
                            one => self.object(one, child, &f.selections),
                        },
                    };
                    out.insert(key, value);
                }
                SelectionItem::InlineFragment(i)
                    if i.type_condition == kind.typename()
                        && self.included(i.skip_if.as_deref(), i.include_if.as_deref()) =>
                {
                    self.fields(node, kind, &i.selections, out);
                }
                _ => {}
            }
        }
    }

    fn included(&self, skip_if: Option<&str>, include_if: Option<&str>) -> bool {
        let var = |name: &str| self.variables.get(name) == Some(&Json::Bool(true));
        !skip_if.is_some_and(var) && include_if.is_none_or(var)
    }

    fn arg(&self, value: &Arg) -> Json {
        match value {
            Arg::Variable(name) => self.variables.get(name).cloned().unwrap_or(Json::Null),
            Arg::String(s) | Arg::Enum(s) => Json::from(s.as_str()),
            Arg::Boolean(b) => Json::Bool(*b),
            Arg::Int(n) => Json::from(*n),
            Arg::Float(f) => Json::from(*f),
            Arg::Null => Json::Null,
            Arg::List(items) => Json::Array(items.iter().map(|v| self.arg(v)).collect()),
            Arg::Object(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), self.arg(v))).collect()),
        }
    }
}
