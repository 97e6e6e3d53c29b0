//! A data-driven subgraph for federation scenarios: it serves any subgraph SDL from a JSON
//! document, so a scenario is an SDL and its data, with no code.
//!
//! The data holds each root field's value under its type (`{"Query": {"books": [...]}}`) and
//! the entities `_entities` can find (`{"entities": {"Book": [{"id": "1", ...}]}}`). An entity is
//! found by the fields of one of its `@key`s; the representation's own fields (the router sends
//! `@requires` and `@external` values there) are laid over it; an entity's `__requires` names
//! the values the representation must carry, so a router that sends wrong ones gets null.
//! Objects of abstract types name their concrete type with `__typename`. `@skip`/`@include` are
//! evaluated as a subgraph would; root-field arguments are not looked at. A top-level
//! `__delay_ms` makes every answer wait that long.

use std::{collections::HashMap, net::SocketAddr};

use axum::{Json, Router, routing::post};
use graphql_tools::parser::{
    query::{self, Definition as QDefinition, Selection, SelectionSet},
    schema::{self, Definition, TypeDefinition},
};
use serde_json::{Map, Value, json};

type Text = String;

/// What the SDL says about each type: its fields' type names, its keys, its supertypes.
#[derive(Default)]
struct Types {
    /// type → field → the named type of the field (wrappers stripped).
    fields: HashMap<String, HashMap<String, String>>,
    /// type → the field names of each `@key` (nested selections flattened to their roots).
    keys: HashMap<String, Vec<Vec<String>>>,
    /// concrete type → the interfaces and unions it belongs to.
    supertypes: HashMap<String, Vec<String>>,
}

pub struct Fixture {
    sdl: String,
    data: Value,
    types: Types,
}

/// Starts the fixture on 127.0.0.1 and returns its GraphQL endpoint.
pub async fn spawn_fixture(sdl: &str, data: Value) -> anyhow::Result<String> {
    let fixture = std::sync::Arc::new(Fixture { sdl: sdl.to_owned(), data, types: types(sdl)? });
    let app = Router::new().route(
        "/graphql",
        post(move |Json(body): Json<Value>| {
            let fixture = fixture.clone();
            async move {
                // `__delay_ms`: a slow subgraph, for what must not wait on it (`@defer`).
                if let Some(ms) = fixture.data.get("__delay_ms").and_then(Value::as_u64) {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                let answer = fixture.execute(&body);
                if std::env::var_os("FIXTURE_LOG").is_some() {
                    eprintln!("fixture <- {body}\nfixture -> {answer}");
                }
                Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}/graphql"))
}

fn named(ty: &schema::Type<'static, Text>) -> String {
    match ty {
        schema::Type::NamedType(n) => n.clone(),
        schema::Type::ListType(inner) | schema::Type::NonNullType(inner) => named(inner),
    }
}

/// The SDL without its `extend schema @link(...)` (the parser does not know schema extensions,
/// and the links say nothing the fixture needs): that statement and its indented continuation.
fn without_schema_extension(sdl: &str) -> String {
    let mut skipping = false;
    let mut out = String::new();
    for line in sdl.lines() {
        if line.trim_start().starts_with("extend schema") {
            skipping = true;
            continue;
        }
        if skipping && (line.starts_with(' ') || line.starts_with('\t') || line.trim_start().starts_with('@')) {
            continue;
        }
        skipping = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn types(sdl: &str) -> anyhow::Result<Types> {
    let doc = schema::parse_schema::<Text>(&without_schema_extension(sdl))?.into_static();
    let mut out = Types::default();
    for def in &doc.definitions {
        let (name, fields, directives, implements) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => {
                (&o.name, &o.fields, &o.directives, &o.implements_interfaces)
            }
            Definition::TypeExtension(schema::TypeExtension::Object(o)) => {
                (&o.name, &o.fields, &o.directives, &o.implements_interfaces)
            }
            Definition::TypeDefinition(TypeDefinition::Interface(i)) => {
                (&i.name, &i.fields, &i.directives, &i.implements_interfaces)
            }
            Definition::TypeExtension(schema::TypeExtension::Interface(i)) => {
                (&i.name, &i.fields, &i.directives, &i.implements_interfaces)
            }
            Definition::TypeDefinition(TypeDefinition::Union(u)) => {
                for member in &u.types {
                    out.supertypes.entry(member.clone()).or_default().push(u.name.clone());
                }
                continue;
            }
            _ => continue,
        };
        let entry = out.fields.entry(name.clone()).or_default();
        for f in fields {
            entry.insert(f.name.clone(), named(&f.field_type));
        }
        for interface in implements {
            out.supertypes.entry(name.clone()).or_default().push(interface.clone());
        }
        for d in directives.iter().filter(|d| d.name == "key") {
            if let Some((_, schema::Value::String(fields))) = d.arguments.iter().find(|(k, _)| k == "fields") {
                let roots = key_roots(fields);
                out.keys.entry(name.clone()).or_default().push(roots);
            }
        }
    }
    Ok(out)
}

/// The top-level field names of a `@key(fields:)` selection (`"id sku"`, `"id org { id }"`).
fn key_roots(fields: &str) -> Vec<String> {
    let mut depth = 0;
    let mut roots = Vec::new();
    for token in fields.replace('{', " { ").replace('}', " } ").split_whitespace() {
        match token {
            "{" => depth += 1,
            "}" => depth -= 1,
            name if depth == 0 => roots.push(name.to_owned()),
            _ => {}
        }
    }
    roots
}

impl Fixture {
    fn execute(&self, body: &Value) -> Value {
        let Some(text) = body["query"].as_str() else { return json!({ "errors": [{ "message": "no query" }] }) };
        let doc = match query::parse_query::<Text>(text) {
            Ok(doc) => doc.into_static(),
            Err(e) => return json!({ "errors": [{ "message": e.to_string() }] }),
        };
        let empty = Map::new();
        let variables = body["variables"].as_object().unwrap_or(&empty);
        let fragments: HashMap<&str, &query::FragmentDefinition<'static, Text>> = doc
            .definitions
            .iter()
            .filter_map(|d| match d {
                QDefinition::Fragment(f) => Some((f.name.as_str(), f)),
                QDefinition::Operation(_) => None,
            })
            .collect();
        let Some((root, selections)) = doc.definitions.iter().find_map(|d| match d {
            QDefinition::Operation(query::OperationDefinition::Query(q)) => Some(("Query", &q.selection_set)),
            QDefinition::Operation(query::OperationDefinition::SelectionSet(s)) => Some(("Query", s)),
            QDefinition::Operation(query::OperationDefinition::Mutation(m)) => Some(("Mutation", &m.selection_set)),
            _ => None,
        }) else {
            return json!({ "errors": [{ "message": "no operation" }] });
        };
        let walk = Walk { fixture: self, variables, fragments };
        let mut data = Map::new();
        let mut root_fields = Vec::new();
        walk.root_fields(selections, &mut root_fields);
        for f in root_fields {
            let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
            let value = match f.name.as_str() {
                "_service" => walk.object(&json!({ "sdl": self.sdl }), "_Service", &f.selection_set),
                "_entities" => walk.entities(f),
                "__typename" => Value::from(root),
                name => {
                    let value = self.data[root].get(name).cloned().unwrap_or(Value::Null);
                    let ty = self.types.fields.get(root).and_then(|t| t.get(name)).cloned().unwrap_or_default();
                    walk.value(&value, &ty, &f.selection_set)
                }
            };
            data.insert(key, value);
        }
        json!({ "data": data })
    }
}

struct Walk<'a> {
    fixture: &'a Fixture,
    variables: &'a Map<String, Value>,
    fragments: HashMap<&'a str, &'a query::FragmentDefinition<'static, Text>>,
}

impl<'a> Walk<'a> {
    /// The root fields, through the fragments a router may wrap them in (`... on Query
    /// @include(if: $x) { ... }`), as a subgraph's executor collects them.
    fn root_fields(&self, selections: &'a SelectionSet<'static, Text>, out: &mut Vec<&'a query::Field<'static, Text>>) {
        for item in &selections.items {
            match item {
                Selection::Field(f) if self.included(&f.directives) => out.push(f),
                Selection::InlineFragment(i) if self.included(&i.directives) => self.root_fields(&i.selection_set, out),
                Selection::FragmentSpread(s) if self.included(&s.directives) => {
                    if let Some(fragment) = self.fragments.get(s.fragment_name.as_str()) {
                        self.root_fields(&fragment.selection_set, out);
                    }
                }
                _ => {}
            }
        }
    }

    /// `@skip`/`@include`, as a subgraph evaluates them.
    fn included(&self, directives: &[query::Directive<'static, Text>]) -> bool {
        let condition = |name: &str| {
            let directive = directives.iter().find(|d| d.name == name)?;
            match directive.arguments.iter().find(|(k, _)| k == "if").map(|(_, v)| v) {
                Some(query::Value::Boolean(b)) => Some(*b),
                Some(query::Value::Variable(v)) => self.variables.get(v).and_then(Value::as_bool),
                _ => None,
            }
        };
        condition("skip") != Some(true) && condition("include") != Some(false)
    }

    fn entities(&self, field: &query::Field<'static, Text>) -> Value {
        let representations = match field.arguments.iter().find(|(k, _)| k == "representations") {
            Some((_, query::Value::Variable(v))) => self.variables.get(v).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let found = representations.as_array().into_iter().flatten().map(|rep| {
            let typename = rep["__typename"].as_str().unwrap_or_default();
            let candidates = self.fixture.data["entities"][typename].as_array().cloned().unwrap_or_default();
            let keys = self.fixture.types.keys.get(typename).cloned().unwrap_or_default();
            // `__requires` in an entity's data: the values the router must send for `@requires`;
            // an entity whose requirements the representation does not meet is not found.
            let entity = candidates.into_iter().find(|e| {
                let keyed = keys
                    .iter()
                    .any(|key| !key.is_empty() && key.iter().all(|k| rep.get(k).is_some() && rep[k] == e[k]));
                let required = e["__requires"].as_object().is_none_or(|r| r.iter().all(|(k, v)| rep.get(k) == Some(v)));
                keyed && required
            });
            match entity {
                Some(Value::Object(mut entity)) => {
                    entity.remove("__requires");
                    // An interface's entity names its concrete type; the representation's
                    // `__typename` is only the type it was asked as.
                    let concrete = entity.get("__typename").and_then(Value::as_str).unwrap_or(typename).to_owned();
                    for (k, v) in rep.as_object().into_iter().flatten().filter(|(k, _)| *k != "__typename") {
                        entity.insert(k.clone(), v.clone());
                    }
                    self.object(&Value::Object(entity), &concrete, &field.selection_set)
                }
                _ => Value::Null,
            }
        });
        Value::Array(found.collect())
    }

    fn value(&self, value: &Value, ty: &str, selections: &SelectionSet<'static, Text>) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(i, ty, selections)).collect()),
            Value::Object(_) if !selections.items.is_empty() => {
                let concrete = value["__typename"].as_str().unwrap_or(ty).to_owned();
                self.object(value, &concrete, selections)
            }
            other => other.clone(),
        }
    }

    fn object(&self, value: &Value, ty: &str, selections: &SelectionSet<'static, Text>) -> Value {
        let mut out = Map::new();
        self.fields(value, ty, selections, &mut out);
        Value::Object(out)
    }

    fn fields(&self, value: &Value, ty: &str, selections: &SelectionSet<'static, Text>, out: &mut Map<String, Value>) {
        for item in &selections.items {
            let directives = match item {
                Selection::Field(f) => &f.directives,
                Selection::InlineFragment(i) => &i.directives,
                Selection::FragmentSpread(s) => &s.directives,
            };
            if !self.included(directives) {
                continue;
            }
            match item {
                Selection::Field(f) => {
                    let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                    if f.name == "__typename" {
                        out.insert(key, Value::from(ty));
                        continue;
                    }
                    let field_ty = self.fixture.types.fields.get(ty).and_then(|t| t.get(&f.name)).cloned();
                    let raw = value.get(&f.name).cloned().unwrap_or(Value::Null);
                    let answer = self.value(&raw, field_ty.as_deref().unwrap_or_default(), &f.selection_set);
                    // A field selected twice (in and out of a fragment) answers both selections.
                    match out.get_mut(&key) {
                        Some(existing) => merge(existing, answer),
                        None => {
                            out.insert(key, answer);
                        }
                    }
                }
                Selection::InlineFragment(i) => {
                    let applies = match &i.type_condition {
                        None => true,
                        Some(query::TypeCondition::On(on)) => self.is_a(ty, on),
                    };
                    if applies {
                        self.fields(value, ty, &i.selection_set, out);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(fragment) = self.fragments.get(s.fragment_name.as_str()) {
                        let query::TypeCondition::On(on) = &fragment.type_condition;
                        if self.is_a(ty, on) {
                            self.fields(value, ty, &fragment.selection_set, out);
                        }
                    }
                }
            }
        }
    }

    fn is_a(&self, ty: &str, condition: &str) -> bool {
        ty == condition || self.fixture.types.supertypes.get(ty).is_some_and(|s| s.iter().any(|t| t == condition))
    }
}

fn merge(into: &mut Value, more: Value) {
    match (into, more) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter_mut().zip(b).for_each(|(x, y)| merge(x, y));
        }
        (into, more) => *into = more,
    }
}
