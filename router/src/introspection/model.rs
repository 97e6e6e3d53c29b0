//! The introspection model: each type of the API schema as the full `__Type` object the spec
//! describes, and the `__Schema` object. The meta types (`__Type`, the built-in scalars…) and the
//! built-in directives are the same in every schema and come from `meta.json`.

use std::collections::HashMap;

use graphql_tools::static_graphql::schema::{
    Definition, Directive, Document, EnumValue, Field, InputValue, Type, TypeDefinition, Value,
};
use serde_json::{Value as Json, json};

const META: &str = include_str!("meta.json");

/// Every type by name, and the `__Schema` object.
pub fn build(api: &Document) -> Result<(HashMap<String, Json>, Json), String> {
    let meta: Json = serde_json::from_str(META).map_err(|e| format!("the meta schema does not parse: {e}"))?;
    let mut types: HashMap<String, Json> = HashMap::new();
    for ty in meta["types"].as_array().into_iter().flatten() {
        let mut ty = ty.clone();
        ty["ofType"] = Json::Null;
        ty["isOneOf"] = Json::Null;
        types.insert(ty["name"].as_str().unwrap_or_default().to_owned(), ty);
    }
    let (mut query, mut mutation, mut subscription) = ("Query".to_owned(), None, None);
    let definitions: Vec<&TypeDefinition> = api
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::TypeDefinition(t) => Some(t),
            Definition::SchemaDefinition(s) => {
                query = s.query.clone().unwrap_or(query.clone());
                mutation = s.mutation.clone();
                subscription = s.subscription.clone();
                None
            }
            _ => None,
        })
        .filter(|t| !types.contains_key(name(t)) && !name(t).starts_with("__"))
        .collect();
    let defined = |n: &str| definitions.iter().any(|t| name(t) == n);
    mutation = mutation.or_else(|| defined("Mutation").then(|| "Mutation".to_owned()));
    subscription = subscription.or_else(|| defined("Subscription").then(|| "Subscription".to_owned()));
    if !defined(&query) {
        return Err(format!("the API schema has no query type `{query}`"));
    }
    // Interfaces list the objects (and interfaces) that implement them.
    let mut implementers: HashMap<&str, Vec<&str>> = HashMap::new();
    for t in &definitions {
        let implements = match t {
            TypeDefinition::Object(o) => &o.implements_interfaces,
            TypeDefinition::Interface(i) => &i.implements_interfaces,
            _ => continue,
        };
        for interface in implements {
            if matches!(t, TypeDefinition::Object(_)) {
                implementers.entry(interface.as_str()).or_default().push(name(t));
            }
        }
    }
    for t in &definitions {
        types.insert(name(t).to_owned(), full_type(t, &implementers));
    }
    let mut listed: Vec<&Json> = types.values().collect();
    listed.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let reference = |n: &Option<String>| n.as_ref().map_or(Json::Null, |n| types[n.as_str()].clone());
    let schema = json!({
        "description": null,
        "types": listed,
        "queryType": types[query.as_str()],
        "mutationType": reference(&mutation.filter(|m| types.contains_key(m))),
        "subscriptionType": reference(&subscription.filter(|s| types.contains_key(s))),
        "directives": meta["directives"],
    });
    Ok((types, schema))
}

fn name(t: &TypeDefinition) -> &str {
    match t {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

/// A type as `__Type` answers it; the lists that do not apply to its kind are null.
fn full_type(t: &TypeDefinition, implementers: &HashMap<&str, Vec<&str>>) -> Json {
    let mut out = json!({
        "kind": null, "name": name(t), "description": null, "specifiedByURL": null, "fields": null,
        "inputFields": null, "interfaces": null, "enumValues": null, "possibleTypes": null, "ofType": null,
        "isOneOf": null,
    });
    let refs = |names: &[String]| Json::Array(names.iter().map(|n| named(n)).collect());
    let (kind, description) = match t {
        TypeDefinition::Scalar(s) => {
            out["specifiedByURL"] =
                argument(&s.directives, "specifiedBy", "url").map_or(Json::Null, |v| literal_json(&v));
            ("SCALAR", &s.description)
        }
        TypeDefinition::Object(o) => {
            out["fields"] = Json::Array(o.fields.iter().filter(|f| !f.name.starts_with("__")).map(field).collect());
            out["interfaces"] = refs(&o.implements_interfaces);
            ("OBJECT", &o.description)
        }
        TypeDefinition::Interface(i) => {
            out["fields"] = Json::Array(i.fields.iter().map(field).collect());
            out["interfaces"] = refs(&i.implements_interfaces);
            let mut possible: Vec<String> =
                implementers.get(i.name.as_str()).into_iter().flatten().map(|s| (*s).to_owned()).collect();
            possible.sort();
            out["possibleTypes"] = refs(&possible);
            ("INTERFACE", &i.description)
        }
        TypeDefinition::Union(u) => {
            out["possibleTypes"] = refs(&u.types);
            ("UNION", &u.description)
        }
        TypeDefinition::Enum(e) => {
            out["enumValues"] = Json::Array(e.values.iter().map(enum_value).collect());
            ("ENUM", &e.description)
        }
        TypeDefinition::InputObject(io) => {
            out["inputFields"] = Json::Array(io.fields.iter().map(input_value).collect());
            out["isOneOf"] = Json::Bool(io.directives.iter().any(|d| d.name == "oneOf"));
            ("INPUT_OBJECT", &io.description)
        }
    };
    out["kind"] = Json::from(kind);
    out["description"] = description.as_deref().map_or(Json::Null, Json::from);
    out
}

/// A named type reference; the walk looks the full type up by its name.
fn named(n: &str) -> Json {
    json!({ "kind": null, "name": n, "ofType": null })
}

fn type_ref(t: &Type) -> Json {
    match t {
        Type::NamedType(n) => named(n),
        Type::ListType(inner) => json!({ "kind": "LIST", "name": null, "ofType": type_ref(inner) }),
        Type::NonNullType(inner) => json!({ "kind": "NON_NULL", "name": null, "ofType": type_ref(inner) }),
    }
}

fn field(f: &Field) -> Json {
    let (deprecated, reason) = deprecation(&f.directives);
    json!({
        "name": f.name,
        "description": f.description,
        "args": f.arguments.iter().map(input_value).collect::<Vec<_>>(),
        "type": type_ref(&f.field_type),
        "isDeprecated": deprecated,
        "deprecationReason": reason,
    })
}

fn input_value(v: &InputValue) -> Json {
    let (deprecated, reason) = deprecation(&v.directives);
    json!({
        "name": v.name,
        "description": v.description,
        "type": type_ref(&v.value_type),
        "defaultValue": v.default_value.as_ref().map(literal),
        "isDeprecated": deprecated,
        "deprecationReason": reason,
    })
}

fn enum_value(v: &EnumValue) -> Json {
    let (deprecated, reason) = deprecation(&v.directives);
    json!({ "name": v.name, "description": v.description, "isDeprecated": deprecated, "deprecationReason": reason })
}

/// `@deprecated(reason:)`: whether, and why (the spec's default reason when none is given).
fn deprecation(directives: &[Directive]) -> (bool, Json) {
    match directives.iter().find(|d| d.name == "deprecated") {
        None => (false, Json::Null),
        Some(d) => {
            let reason = d.arguments.iter().find(|(k, _)| k == "reason").map(|(_, v)| literal_json(v));
            (true, reason.unwrap_or_else(|| Json::from("No longer supported")))
        }
    }
}

fn argument(directives: &[Directive], directive: &str, arg: &str) -> Option<Value> {
    directives.iter().find(|d| d.name == directive)?.arguments.iter().find(|(k, _)| k == arg).map(|(_, v)| v.clone())
}

fn literal_json(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::from(s.as_str()),
        other => Json::from(literal(other)),
    }
}

/// A value as GraphQL source text, as `defaultValue` shows it.
fn literal(v: &Value) -> String {
    match v {
        Value::Variable(name) => format!("${name}"),
        Value::Null => "null".to_owned(),
        Value::Int(n) => n.as_i64().unwrap_or_default().to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Boolean(b) => b.to_string(),
        Value::Enum(e) => e.clone(),
        Value::List(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(fields) => {
            format!("{{{}}}", fields.iter().map(|(k, v)| format!("{k}: {}", literal(v))).collect::<Vec<_>>().join(", "))
        }
    }
}
