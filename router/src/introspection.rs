//! Introspection of the API schema, answered by the router itself.
//!
//! The API schema (the supergraph minus join internals and `@inaccessible` elements, as the
//! planner derives it) is rebuilt as an async-graphql dynamic schema whose resolvers are never
//! used. async-graphql then answers `__schema` and `__type` to the letter of the spec:
//! descriptions, deprecations, arguments, default values, possible types.

use async_graphql::{
    Name, Value as GqlValue,
    dynamic::{
        Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface, InterfaceField, Object,
        Scalar, Schema, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef, Union,
    },
};
use graphql_tools::static_graphql::schema::{Definition, Directive, Document, Type, TypeDefinition, Value};
use serde_json::{Map, Value as Json};

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

pub struct Introspection {
    schema: Schema,
}

impl Introspection {
    pub fn new(api: &Document) -> Result<Self, String> {
        let (mut query, mut mutation, mut subscription) = ("Query".to_owned(), None, None);
        for def in &api.definitions {
            if let Definition::SchemaDefinition(s) = def {
                query = s.query.clone().unwrap_or(query);
                mutation = s.mutation.clone();
                subscription = s.subscription.clone();
            }
        }
        let defined = |name: &str| {
            api.definitions.iter().any(|d| matches!(d, Definition::TypeDefinition(t) if type_name(t) == name))
        };
        mutation = mutation.or_else(|| defined("Mutation").then(|| "Mutation".to_owned()));
        subscription = subscription.or_else(|| defined("Subscription").then(|| "Subscription".to_owned()));

        let mut builder = Schema::build(&query, mutation.as_deref(), subscription.as_deref()).introspection_only();
        for def in &api.definitions {
            let Definition::TypeDefinition(ty) = def else { continue };
            let name = type_name(ty);
            if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
                continue;
            }
            builder = match ty {
                TypeDefinition::Object(o) if Some(&o.name) == subscription.as_ref() => {
                    let mut s = Subscription::new(&o.name).description(o.description.clone().unwrap_or_default());
                    for f in &o.fields {
                        let mut field = SubscriptionField::new(&f.name, type_ref(&f.field_type), |_| {
                            SubscriptionFieldFuture::new(async {
                                Ok(futures::stream::empty::<async_graphql::Result<FieldValue>>())
                            })
                        });
                        for arg in &f.arguments {
                            field = field.argument(input_value(arg));
                        }
                        if let Some(d) = &f.description {
                            field = field.description(d);
                        }
                        s = s.field(field);
                    }
                    builder.register(s)
                }
                TypeDefinition::Object(o) => {
                    let mut obj = Object::new(&o.name);
                    if let Some(d) = &o.description {
                        obj = obj.description(d);
                    }
                    for i in &o.implements_interfaces {
                        obj = obj.implement(i);
                    }
                    // The API schema declares `__schema`/`__type` on the query type; async-graphql
                    // adds its own.
                    for f in o.fields.iter().filter(|f| !f.name.starts_with("__")) {
                        let mut field = Field::new(&f.name, type_ref(&f.field_type), |_| {
                            FieldFuture::new(async { Ok(None::<FieldValue>) })
                        });
                        for arg in &f.arguments {
                            field = field.argument(input_value(arg));
                        }
                        if let Some(d) = &f.description {
                            field = field.description(d);
                        }
                        if let Some(reason) = deprecation(&f.directives) {
                            field = field.deprecation(reason.as_deref());
                        }
                        obj = obj.field(field);
                    }
                    builder.register(obj)
                }
                TypeDefinition::Interface(i) => {
                    let mut iface = Interface::new(&i.name);
                    if let Some(d) = &i.description {
                        iface = iface.description(d);
                    }
                    for parent in &i.implements_interfaces {
                        iface = iface.implement(parent);
                    }
                    for f in &i.fields {
                        let mut field = InterfaceField::new(&f.name, type_ref(&f.field_type));
                        for arg in &f.arguments {
                            field = field.argument(input_value(arg));
                        }
                        if let Some(d) = &f.description {
                            field = field.description(d);
                        }
                        iface = iface.field(field);
                    }
                    builder.register(iface)
                }
                TypeDefinition::Union(u) => {
                    let mut union = Union::new(&u.name);
                    if let Some(d) = &u.description {
                        union = union.description(d);
                    }
                    for t in &u.types {
                        union = union.possible_type(t);
                    }
                    builder.register(union)
                }
                TypeDefinition::Enum(e) => {
                    let mut en = Enum::new(&e.name);
                    if let Some(d) = &e.description {
                        en = en.description(d);
                    }
                    for v in &e.values {
                        let mut item = EnumItem::new(&v.name);
                        if let Some(d) = &v.description {
                            item = item.description(d);
                        }
                        if let Some(reason) = deprecation(&v.directives) {
                            item = item.deprecation(reason.as_deref());
                        }
                        en = en.item(item);
                    }
                    builder.register(en)
                }
                TypeDefinition::InputObject(io) => {
                    let mut input = InputObject::new(&io.name);
                    if let Some(d) = &io.description {
                        input = input.description(d);
                    }
                    for f in &io.fields {
                        input = input.field(input_value(f));
                    }
                    builder.register(input)
                }
                TypeDefinition::Scalar(s) => {
                    let mut scalar = Scalar::new(&s.name);
                    if let Some(d) = &s.description {
                        scalar = scalar.description(d);
                    }
                    builder.register(scalar)
                }
            };
        }
        let schema = builder.finish().map_err(|e| format!("the API schema cannot be introspected: {e}"))?;
        Ok(Self { schema })
    }

    /// Runs an introspection-only operation; returns its `data` object and errors.
    pub async fn answer(&self, query: String, variables: &Map<String, Json>) -> (Map<String, Json>, Vec<Json>) {
        let vars = async_graphql::Variables::from_json(Json::Object(variables.clone()));
        let response = self.schema.execute(async_graphql::Request::new(query).variables(vars)).await;
        let data = match response.data.into_json() {
            Ok(Json::Object(map)) => map,
            _ => Map::new(),
        };
        let errors = response.errors.iter().filter_map(|e| serde_json::to_value(e).ok()).collect();
        (data, errors)
    }
}

fn type_name(ty: &TypeDefinition) -> &str {
    match ty {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

fn type_ref(ty: &Type) -> TypeRef {
    match ty {
        Type::NamedType(name) => TypeRef::Named(name.clone().into()),
        Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}

fn input_value(v: &graphql_tools::static_graphql::schema::InputValue) -> InputValue {
    let mut input = InputValue::new(&v.name, type_ref(&v.value_type));
    if let Some(d) = &v.description {
        input = input.description(d);
    }
    if let Some(default) = &v.default_value {
        input = input.default_value(value(default));
    }
    input
}

fn value(v: &Value) -> GqlValue {
    match v {
        Value::Variable(_) | Value::Null => GqlValue::Null,
        Value::Int(n) => GqlValue::from(n.as_i64().unwrap_or_default()),
        Value::Float(f) => GqlValue::from(*f),
        Value::String(s) => GqlValue::from(s.as_str()),
        Value::Boolean(b) => GqlValue::from(*b),
        Value::Enum(e) => GqlValue::Enum(Name::new(e)),
        Value::List(items) => GqlValue::List(items.iter().map(value).collect()),
        Value::Object(fields) => GqlValue::Object(fields.iter().map(|(k, v)| (Name::new(k), value(v))).collect()),
    }
}

/// `Some(reason)` for a `@deprecated` element.
fn deprecation(directives: &[Directive]) -> Option<Option<String>> {
    directives.iter().find(|d| d.name == "deprecated").map(|d| {
        d.arguments.iter().find(|(k, _)| k == "reason").and_then(|(_, v)| match v {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
    })
}
