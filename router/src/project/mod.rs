//! Shaping the merged subgraph answers into exactly the response the client asked for.
//!
//! The merged tree holds extra fields (keys and `__typename`s fetched for entity calls) and may
//! miss some (a subgraph failed). Projection walks the client's normalized operation: it keeps
//! the requested response keys in order, answers `__typename`, applies type conditions by the
//! runtime type, evaluates `@skip`/`@include`, and propagates nulls per the GraphQL spec: a null
//! in a non-null position nulls the nearest nullable parent, with one error at the first path.

use hive_router_query_planner::{
    ast::{
        selection_item::SelectionItem,
        selection_set::{FieldSelection, SelectionSet},
    },
    state::supergraph_state::{SupergraphDefinition, SupergraphState, TypeNode},
};
use std::{
    collections::{HashMap, HashSet},
    rc::Rc,
};

use compact_str::CompactString;

use graphql_tools::static_graphql::schema::{Definition, Document, TypeDefinition};
use serde_json::{Map, Value};

use crate::data::{Data, Object};

mod trace;
mod write;

pub use trace::Trace;

/// A non-null position came out null: the parent must become null too.
struct Bubble;

/// What a selected field puts into its object (see [`Projector::emit`]): under its response
/// key, the runtime type's name, or a value of its declared type.
enum Emit<'s, 'a> {
    Typename(&'s str),
    Value(&'s str, FieldType<'a>),
}

/// What completing a field's value needs to know of the field: its parent type and name (for
/// errors), and its enum's values if it is one.
#[derive(Clone, Copy)]
struct Leaf<'e> {
    field: (&'e str, &'e str),
    enum_values: EnumValues<'e>,
}

type Fields = HashMap<String, hive_router_query_planner::state::supergraph_state::SupergraphField>;

/// The declared type of `field`, looked up on the runtime type, then on the static type.
fn field_type<'a>(types: [Option<&'a Fields>; 2], field: &str) -> Option<&'a TypeNode> {
    types.iter().flatten().find_map(|fields| fields.get(field)).map(|f| &f.field_type)
}

/// One step of a response path, borrowed from the operation: made into JSON only for an error
/// or a deferred fragment's trace, not for every field projected.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seg<'s> {
    Key(&'s str),
    Index(usize),
}

fn json_path(path: &[Seg<'_>]) -> Vec<Value> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => Value::String((*k).to_owned()),
            Seg::Index(i) => Value::from(*i),
        })
        .collect()
}

/// The values of each enum as the client schema has them (`@inaccessible` ones left out).
/// Looked up for every leaf projected: foldhash, not SipHash (the keys are the schema's).
#[derive(Debug, Default)]
pub struct ApiEnums(HashMap<String, HashSet<String, Fast>, Fast>);

type Fast = foldhash::fast::RandomState;

impl ApiEnums {
    pub fn of(api: &Document) -> Self {
        let enums = api.definitions.iter().filter_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Enum(e)) => {
                Some((e.name.clone(), e.values.iter().map(|v| v.name.clone()).collect()))
            }
            _ => None,
        });
        Self(enums.collect())
    }
}

pub struct Projector<'a> {
    state: &'a SupergraphState,
    enums: &'a ApiEnums,
    variables: &'a Map<String, Value>,
    errors: &'a mut Vec<Value>,
    trace: Trace,
    field_types: FieldTypes<'a>,
    /// Per selection set (by address, for one call): whether it can select a response key
    /// twice (see `write`).
    unique_keys: HashMap<usize, bool, Fast>,
}

/// Each item's declared field type, per selection set (by address, so valid for one
/// [`Projector::project`] call, which holds the operation) and per runtime and static type.
/// Looking the types up in the planner's maps costs two SipHash lookups per object and one per
/// field of every object; a list of 300 reviews has one selection set and one runtime type.
/// Most runtime types cached per selection set (see [`Projector::field_types`]).
const TYPES_PER_SELECTION: usize = 8;

type FieldTypes<'a> = HashMap<usize, Vec<(CompactString, CompactString, Rc<[Option<FieldType<'a>>]>)>, Fast>;

/// A field's declared type, and the values of its named type when that is an enum: every leaf
/// is checked against them, and looking the type up per leaf was a hash lookup per leaf.
#[derive(Clone, Copy)]
struct FieldType<'a> {
    ty: &'a TypeNode,
    enum_values: EnumValues<'a>,
}

type EnumValues<'a> = Option<&'a HashSet<String, Fast>>;

/// The named type inside a field type's lists and non-nulls.
fn named(ty: &TypeNode) -> &str {
    match ty {
        TypeNode::Named(name) => name,
        TypeNode::List(inner) | TypeNode::NonNull(inner) => named(inner),
    }
}

impl<'a> Projector<'a> {
    pub fn new(
        state: &'a SupergraphState,
        enums: &'a ApiEnums,
        variables: &'a Map<String, Value>,
        errors: &'a mut Vec<Value>,
    ) -> Self {
        Self {
            state,
            enums,
            variables,
            errors,
            trace: Trace::default(),
            field_types: HashMap::default(),
            unique_keys: HashMap::default(),
        }
    }

    /// Projects while tracing deferred fragments (see [`Trace`]); the trace comes back filled.
    pub fn traced(&mut self, trace: Trace, root_type: &str, selections: &SelectionSet, data: &Data) -> (Data, Trace) {
        self.trace = trace;
        let value = self.project(root_type, selections, data);
        (value, std::mem::take(&mut self.trace))
    }

    /// The `data` of the response: an object, or null when a non-null root field is null.
    pub fn project(&mut self, root_type: &str, selections: &SelectionSet, data: &Data) -> Data {
        // Keyed by the addresses of this call's selection sets: a set of an earlier call may
        // have been freed and another allocated in its place.
        self.field_types.clear();
        let empty = Object::new();
        let root = data.as_object().unwrap_or(&empty);
        match self.object(root_type, selections, root, &mut Vec::new()) {
            Ok(map) => Data::Object(map),
            Err(Bubble) => Data::Null,
        }
    }

    fn included(&self, skip_if: Option<&String>, include_if: Option<&String>) -> bool {
        let var = |name: &String| self.variables.get(name).and_then(Value::as_bool).unwrap_or(false);
        !skip_if.is_some_and(var) && include_if.is_none_or(var)
    }

    fn object<'s>(
        &mut self,
        type_name: &str,
        selections: &'s SelectionSet,
        value: &Object,
        path: &mut Vec<Seg<'s>>,
    ) -> Result<Object, Bubble> {
        let mut out = Object::with_capacity(selections.items.len());
        self.selections_into(type_name, selections, value, path, &mut out)?;
        Ok(out)
    }

    fn selections_into<'s>(
        &mut self,
        type_name: &str,
        selections: &'s SelectionSet,
        value: &Object,
        path: &mut Vec<Seg<'s>>,
        out: &mut Object,
    ) -> Result<(), Bubble> {
        let runtime = value.get("__typename").and_then(Data::as_str).unwrap_or(type_name);
        let types = self.field_types(selections, runtime, type_name);
        for (item, field_type) in selections.items.iter().zip(types.iter()) {
            match item {
                SelectionItem::Field(f) => {
                    let (key, FieldType { ty, enum_values }) = match self.emit(f, *field_type) {
                        None => continue,
                        Some(Emit::Typename(key)) => {
                            out.insert(key, Data::String(runtime.into()));
                            continue;
                        }
                        Some(Emit::Value(key, field_type)) => (key, field_type),
                    };
                    let leaf = Leaf { field: (runtime, &f.name), enum_values };
                    path.push(Seg::Key(key));
                    let completed = self.complete(ty, &f.selections, value.get(key), path, leaf);
                    path.pop();
                    match completed {
                        Ok(v) => {
                            // The same key may be selected twice (fragments); merge the objects.
                            match (out.get_mut(key), v) {
                                (Some(Data::Object(existing)), Data::Object(more)) => {
                                    for (k, v) in more.into_pairs() {
                                        existing.insert(k, v);
                                    }
                                }
                                (Some(slot), v) => *slot = v,
                                (None, v) => out.push_new(key.into(), v),
                            }
                        }
                        Err(Bubble) => return Err(Bubble),
                    }
                }
                SelectionItem::InlineFragment(fragment) => {
                    if !self.applies(&fragment.type_condition, runtime) {
                        continue;
                    }
                    if let Some(var) = &fragment.include_if {
                        self.trace_fragment(var, type_name, &fragment.selections, value, path);
                    }
                    if self.included(fragment.skip_if.as_ref(), fragment.include_if.as_ref()) {
                        self.selections_into(type_name, &fragment.selections, value, path, out)?;
                    }
                }
                SelectionItem::FragmentSpread(_) => {} // normalization inlines fragments
            }
        }
        Ok(())
    }

    /// What the selected field `f` puts into an object of type `runtime`: nothing (omitted from
    /// the response, skipped, or unknown: validation guarantees it exists; be lenient anyway),
    /// the type name, or a value to complete. Both the tree and the writer ask this.
    fn emit<'s>(&self, f: &'s FieldSelection, field_type: Option<FieldType<'a>>) -> Option<Emit<'s, 'a>> {
        if f.omit_from_response || !self.included(f.skip_if.as_ref(), f.include_if.as_ref()) {
            return None;
        }
        let key = f.alias.as_deref().unwrap_or(&f.name);
        if f.name == "__typename" {
            return Some(Emit::Typename(key));
        }
        field_type.map(|t| Emit::Value(key, t))
    }

    /// Each item's field type in `selections` on `runtime` (then `static_type`); None for a
    /// fragment or an unknown field.
    fn field_types(
        &mut self,
        selections: &SelectionSet,
        runtime: &str,
        static_type: &str,
    ) -> Rc<[Option<FieldType<'a>>]> {
        let key = std::ptr::from_ref(selections) as usize;
        let known =
            self.field_types.get(&key).and_then(|c| c.iter().find(|(r, s, _)| r == runtime && s == static_type));
        if let Some((_, _, types)) = known {
            return types.clone();
        }
        let maps = self.field_maps(runtime, static_type);
        let types: Rc<[_]> = selections
            .items
            .iter()
            .map(|item| match item {
                SelectionItem::Field(f) => {
                    field_type(maps, &f.name).map(|ty| FieldType { ty, enum_values: self.enums.0.get(named(ty)) })
                }
                _ => None,
            })
            .collect();
        // The runtime type comes from a subgraph's `__typename`: one sending a new name per
        // object must not grow this list into a quadratic search. Past a few types per
        // selection set, the rest are looked up each time, as before the cache.
        let known = self.field_types.entry(key).or_default();
        if known.len() < TYPES_PER_SELECTION {
            known.push((runtime.into(), static_type.into(), types.clone()));
        }
        types
    }

    /// The fields of the runtime type, and of the static type.
    fn field_maps(&self, runtime: &str, static_type: &str) -> [Option<&'a Fields>; 2] {
        let state: &'a SupergraphState = self.state;
        [runtime, static_type].map(|t| state.definitions.get(t).map(SupergraphDefinition::fields))
    }

    fn applies(&self, condition: &str, runtime: &str) -> bool {
        if condition == runtime {
            return true;
        }
        match self.state.definitions.get(condition) {
            Some(SupergraphDefinition::Interface(_)) => {
                self.state.interface_to_object_types.get(condition).is_some_and(|types| types.contains(runtime))
            }
            Some(SupergraphDefinition::Union(u)) => u.types.iter().any(|t| t == runtime),
            _ => false,
        }
    }

    fn complete<'s>(
        &mut self,
        ty: &TypeNode,
        selections: &'s SelectionSet,
        value: Option<&Data>,
        path: &mut Vec<Seg<'s>>,
        leaf: Leaf<'_>,
    ) -> Result<Data, Bubble> {
        match ty {
            TypeNode::NonNull(inner) => {
                let v = self.complete(inner, selections, value, path, leaf)?;
                if v.is_null() {
                    self.null_error(path, leaf.field);
                    return Err(Bubble);
                }
                Ok(v)
            }
            TypeNode::List(inner) => match value {
                Some(Data::List(items)) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        path.push(Seg::Index(i));
                        let r = self.complete(inner, selections, Some(item), path, leaf);
                        path.pop();
                        match r {
                            Ok(v) => out.push(v),
                            Err(Bubble) => return Ok(Data::Null),
                        }
                    }
                    Ok(Data::List(out))
                }
                _ => Ok(Data::Null),
            },
            TypeNode::Named(name) => match value {
                None | Some(Data::Null) => Ok(Data::Null),
                Some(v) if selections.items.is_empty() => {
                    Ok(if self.leaf_allowed(leaf, v, path) { v.clone() } else { Data::Null })
                }
                Some(Data::Object(obj)) => match self.object(name, selections, obj, path) {
                    Ok(map) => Ok(Data::Object(map)),
                    Err(Bubble) => Ok(Data::Null),
                },
                Some(_) => Ok(Data::Null),
            },
        }
    }

    /// Whether the leaf `value` may reach the client. An enum value the client schema does not
    /// have (`@inaccessible`, or unknown) must not: an error is recorded instead.
    fn leaf_allowed(&mut self, leaf: Leaf<'_>, value: &Data, path: &[Seg<'_>]) -> bool {
        match leaf.enum_values {
            Some(values) if !value.as_str().is_some_and(|s| values.contains(s)) => {
                let (type_name, field) = leaf.field;
                let error =
                    crate::error::RouterError::InvalidLeafValue { type_name: type_name.into(), field: field.into() };
                self.errors.push(error.at(json_path(path)));
                false
            }
            _ => true,
        }
    }

    /// Records why a non-null position is null, unless an error already explains this path
    /// (the subgraph's own error, or a failed fetch above it).
    fn null_error(&mut self, path: &[Seg<'_>], (type_name, field): (&str, &str)) {
        let path = json_path(path);
        let path = path.as_slice();
        let explained = self.errors.iter().any(|e| {
            e.get("path").and_then(Value::as_array).is_some_and(|p| p.starts_with(path) || path.starts_with(p))
        });
        if !explained {
            let error = crate::error::RouterError::NullInNonNull { type_name: type_name.into(), field: field.into() };
            self.errors.push(error.at(path));
        }
    }
}
