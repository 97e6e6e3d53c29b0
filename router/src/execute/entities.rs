//! Entity fetches: `_entities` calls for objects already in the response tree.
//!
//! A `Fetch` under a `Flatten` is one alias (`_entities` with `$representations`); a
//! `BatchFetch` is several aliases in one request. Either way: find the objects at each merge
//! path, project each onto the fields the subgraph `requires` (its key, `@requires` fields),
//! drop duplicate representations, send one request, and merge each answer back into every
//! object that shared its representation.

use hive_router_query_planner::{
    ast::{selection_item::SelectionItem, selection_set::SelectionSet},
    planner::plan_nodes::{BatchFetchNode, FetchNode, FetchNodePathSegment, FetchRewrite, FlattenNodePath},
    state::supergraph_state::SupergraphState,
};
use serde_json::{Map, Value};

use super::{
    Run,
    fetch::{annotate, unavailable, used_variables},
    merge::deep_merge,
    path::{Step, get, get_mut, locate},
};

pub(super) struct Alias<'p> {
    /// The response key of this alias's `_entities` field.
    response_key: String,
    variable: String,
    paths: Vec<&'p FlattenNodePath>,
    requires: &'p SelectionSet,
    input_rewrites: &'p [FetchRewrite],
    output_rewrites: &'p [FetchRewrite],
}

pub(super) struct EntityFetch<'p> {
    service: &'p str,
    query: &'p str,
    variable_usages: Option<&'p std::collections::BTreeSet<String>>,
    aliases: Vec<Alias<'p>>,
}

impl<'p> EntityFetch<'p> {
    pub(super) fn single(fetch: &'p FetchNode, path: &'p FlattenNodePath) -> Self {
        Self {
            service: &fetch.service_name,
            query: &fetch.operation.document_str,
            variable_usages: fetch.variable_usages.as_ref(),
            aliases: vec![Alias {
                response_key: "_entities".into(),
                variable: "representations".into(),
                paths: vec![path],
                requires: fetch.requires.as_ref().expect("an entity fetch has requires"),
                input_rewrites: fetch.input_rewrites.as_deref().unwrap_or_default(),
                output_rewrites: fetch.output_rewrites.as_deref().unwrap_or_default(),
            }],
        }
    }

    pub(super) fn batch(batch: &'p BatchFetchNode) -> Self {
        Self {
            service: &batch.service_name,
            query: &batch.operation.document_str,
            variable_usages: batch.variable_usages.as_ref(),
            aliases: batch
                .entity_batch
                .aliases
                .iter()
                .map(|a| Alias {
                    response_key: a.alias.clone(),
                    variable: a.representations_variable_name.clone(),
                    paths: a.merge_paths.iter().collect(),
                    requires: &a.requires,
                    input_rewrites: a.input_rewrites.as_deref().unwrap_or_default(),
                    output_rewrites: a.output_rewrites.as_deref().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// Per alias: the distinct representations, and for each the locations that share it.
struct Collected {
    representations: Vec<Value>,
    locations: Vec<Vec<Vec<Step>>>,
}

impl Run<'_> {
    pub(super) async fn entity_fetch(&self, fetch: &EntityFetch<'_>) {
        let collected: Vec<Collected> = {
            let data = self.data.lock().expect("data lock poisoned");
            fetch.aliases.iter().map(|alias| collect(&data, alias, self.state)).collect()
        };
        if collected.iter().all(|c| c.representations.is_empty()) {
            return; // nothing to resolve: every parent was null
        }
        let mut variables = used_variables(fetch.variable_usages, self.variables);
        for (alias, c) in fetch.aliases.iter().zip(&collected) {
            variables.insert(alias.variable.clone(), Value::Array(c.representations.clone()));
        }
        // `_entities` is a query even under a mutation: safe to retry.
        let answer = self.client.send(fetch.service, fetch.query, Value::Object(variables), self.forward, true).await;
        let first_path = || {
            collected
                .iter()
                .find_map(|c| c.locations.iter().flatten().next())
                .map(|l| l.iter().map(Step::to_json).collect())
        };
        let mut body = match answer {
            Ok(answer) if !self.take_bytes(answer.bytes, first_path) => return,
            Ok(answer) => {
                self.cache_hint(&answer);
                let mut body = answer.body;
                super::entity_errors::index(&mut body);
                body
            }
            Err(failure) => {
                for c in &collected {
                    if let Some(first) = c.locations.iter().flatten().next() {
                        self.error(unavailable(&failure, Some(first.iter().map(Step::to_json).collect())));
                    }
                }
                return;
            }
        };
        let mut data = self.data.lock().expect("data lock poisoned");
        for (alias, c) in fetch.aliases.iter().zip(&collected) {
            let answers = body.pointer_mut(&format!("/data/{}", alias.response_key)).map(Value::take);
            let Some(Value::Array(answers)) = answers else { continue };
            for (i, mut answer) in answers.into_iter().enumerate() {
                apply_rewrites(&mut answer, alias.output_rewrites, self.state);
                let Some(shared_by) = c.locations.get(i) else { continue };
                for location in shared_by {
                    if let Some(target) = get_mut(&mut data, location) {
                        deep_merge(target, answer.clone());
                    }
                }
            }
        }
        drop(data);
        if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
            let mapped: Vec<Value> = errors.drain(..).map(|e| remap_error(e, fetch, &collected)).collect();
            self.errors.lock().expect("errors lock poisoned").extend(mapped);
        }
    }
}

fn collect(data: &Value, alias: &Alias<'_>, state: &SupergraphState) -> Collected {
    let mut out = Collected { representations: Vec::new(), locations: Vec::new() };
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for path in &alias.paths {
        for location in locate(data, path.as_slice()) {
            let Some(entity) = get(data, &location) else { continue };
            let Some(mut representation) = project(entity, alias.requires, state) else { continue };
            apply_rewrites(&mut representation, alias.input_rewrites, state);
            let key = representation.to_string();
            let i = *index.entry(key).or_insert_with(|| {
                out.representations.push(representation);
                out.locations.push(Vec::new());
                out.representations.len() - 1
            });
            out.locations[i].push(location);
        }
    }
    out
}

/// `entity` narrowed to the `requires` selection (response keys equal field names there).
/// None when a required field is missing: such an entity cannot be resolved. A type condition
/// holds for its own type and, when it is an interface, for every object implementing it.
fn project(entity: &Value, requires: &SelectionSet, state: &SupergraphState) -> Option<Value> {
    let obj = entity.as_object()?;
    let mut out = Map::new();
    // An abstract value's representation names its concrete type, as Apollo's planner sends it
    // (`packaging { __typename weight ... on Box { volume } }`): the subgraph cannot read an
    // interface value without it.
    let abstract_value = requires.items.iter().any(|i| matches!(i, SelectionItem::InlineFragment(_)));
    if abstract_value && let Some(typename) = obj.get("__typename") {
        out.insert("__typename".into(), typename.clone());
    }
    for item in &requires.items {
        match item {
            SelectionItem::Field(f) => {
                let value = obj.get(&f.name)?;
                let projected = if f.selections.items.is_empty() {
                    value.clone()
                } else {
                    match value {
                        Value::Array(items) => {
                            Value::Array(items.iter().map(|v| project(v, &f.selections, state)).collect::<Option<_>>()?)
                        }
                        Value::Null => Value::Null,
                        v => project(v, &f.selections, state)?,
                    }
                };
                out.insert(f.name.clone(), projected);
            }
            SelectionItem::InlineFragment(fragment) => {
                let typename = obj.get("__typename").and_then(Value::as_str).unwrap_or_default();
                let condition = fragment.type_condition.as_str();
                let holds = typename == condition
                    || state.interface_to_object_types.get(condition).is_some_and(|types| types.contains(typename));
                if holds && let Some(Value::Object(more)) = project(entity, &fragment.selections, state) {
                    out.extend(more);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(Value::Object(out))
}

/// Applies the planner's rewrites: set a value (e.g. `__typename` of an interface object) or
/// rename a key, where the path's type conditions match (an interface matches its objects).
fn apply_rewrites(value: &mut Value, rewrites: &[FetchRewrite], state: &SupergraphState) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                if let Some(slot) = walk_rewrite_path(value, &setter.path, state) {
                    *slot = Value::String(setter.set_value_to.clone());
                }
            }
            FetchRewrite::KeyRenamer(renamer) => {
                let (last, parent) = match renamer.path.split_last() {
                    Some((FetchNodePathSegment::Key(k), parent)) => (k.clone(), parent),
                    _ => continue,
                };
                if let Some(Value::Object(obj)) = walk_rewrite_path(value, parent, state)
                    && let Some(v) = obj.remove(&last)
                {
                    obj.insert(renamer.rename_key_to.clone(), v);
                }
            }
        }
    }
}

fn walk_rewrite_path<'v>(
    value: &'v mut Value,
    path: &[FetchNodePathSegment],
    state: &SupergraphState,
) -> Option<&'v mut Value> {
    let mut current = value;
    for segment in path {
        match segment {
            FetchNodePathSegment::TypenameEquals(types) => {
                let typename = current.get("__typename").and_then(Value::as_str).unwrap_or_default();
                let holds = types.iter().any(|t| {
                    t == typename
                        || state.interface_to_object_types.get(t).is_some_and(|objects| objects.contains(typename))
                });
                if !holds {
                    return None;
                }
            }
            FetchNodePathSegment::Key(k) => {
                let obj = current.as_object_mut()?;
                current = obj.entry(k.clone()).or_insert(Value::Null);
            }
        }
    }
    Some(current)
}

/// A subgraph error at `[alias, i, rest…]` belongs at the first location that used
/// representation `i`, followed by `rest`.
fn remap_error(mut error: Value, fetch: &EntityFetch<'_>, collected: &[Collected]) -> Value {
    let path = error.get("path").and_then(Value::as_array).cloned();
    if let Some(path) = path
        && let (Some(Value::String(key)), Some(i)) = (path.first(), path.get(1).and_then(Value::as_u64))
        && let Some(pos) = fetch.aliases.iter().position(|a| &a.response_key == key)
        && let Some(location) = collected[pos].locations.get(i as usize).and_then(|l| l.first())
    {
        let mut client_path: Vec<Value> = location.iter().map(Step::to_json).collect();
        client_path.extend(path.into_iter().skip(2));
        error["path"] = Value::Array(client_path);
    }
    annotate(error, fetch.service)
}
