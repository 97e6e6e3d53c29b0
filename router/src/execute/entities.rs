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
use serde_json::Value;

use super::{
    Run,
    fetch::{annotate, unavailable, variables_json},
    merge::deep_merge,
    path::{Step, get, get_mut, locate},
};
use crate::data::{Data, Object};

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

/// Per alias: the distinct representations (as the JSON list sent), and for each the locations
/// that share it.
struct Collected<'p> {
    representations: String,
    locations: Vec<Vec<Vec<Step<'p>>>>,
}

impl Run<'_> {
    pub(super) async fn entity_fetch<'p>(&self, fetch: &EntityFetch<'p>) {
        let collected: Vec<Collected<'p>> = {
            let data = self.data.lock().expect("data lock poisoned");
            fetch.aliases.iter().map(|alias| collect(&data, alias, self.state)).collect()
        };
        if collected.iter().all(|c| c.locations.is_empty()) {
            return; // nothing to resolve: every parent was null
        }
        let extra: Vec<(&str, &str)> = fetch
            .aliases
            .iter()
            .zip(&collected)
            .map(|(a, c)| (a.variable.as_str(), c.representations.as_str()))
            .collect();
        let variables = variables_json(fetch.variable_usages, self.variables, &extra);
        // `_entities` is a query even under a mutation: safe to retry.
        let answer = self.client.send(fetch.service, fetch.query, variables, self.forward, true).await;
        let first_path = || {
            collected
                .iter()
                .find_map(|c| c.locations.iter().flatten().next())
                .map(|l| l.iter().map(Step::to_json).collect())
        };
        let (mut data_in, mut errors) = match answer {
            Ok(answer) if !self.take_bytes(answer.bytes, first_path) => return,
            Ok(mut answer) => {
                self.cache_hint(&answer);
                super::entity_errors::index(answer.data.as_ref(), &mut answer.errors);
                (answer.data, answer.errors)
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
            let answers = data_in.as_mut().and_then(Data::as_object_mut).and_then(|o| o.get_mut(&alias.response_key));
            let Some(Data::List(answers)) = answers.map(Data::take) else { continue };
            for (i, mut answer) in answers.into_iter().enumerate() {
                apply_rewrites(&mut answer, alias.output_rewrites, self.state);
                let Some((last, others)) = c.locations.get(i).and_then(|l| l.split_last()) else { continue };
                // Every location but the last gets a copy; the last takes the answer itself.
                for location in others {
                    if let Some(target) = get_mut(&mut data, location) {
                        deep_merge(target, answer.clone());
                    }
                }
                if let Some(target) = get_mut(&mut data, last) {
                    deep_merge(target, answer);
                }
            }
        }
        drop(data);
        if !errors.is_empty() {
            let mapped: Vec<Value> = errors.drain(..).map(|e| remap_error(e, fetch, &collected)).collect();
            self.errors.lock().expect("errors lock poisoned").extend(mapped);
        }
    }
}

fn collect<'p>(data: &Data, alias: &Alias<'p>, state: &SupergraphState) -> Collected<'p> {
    let mut out = Collected { representations: String::from("["), locations: Vec::new() };
    // Keyed by the representation's JSON text: equal text, same entity.
    let mut index: std::collections::HashMap<String, usize, foldhash::fast::RandomState> = Default::default();
    for path in &alias.paths {
        for location in locate(data, path.as_slice()) {
            let Some(entity) = get(data, &location) else { continue };
            let Some(mut representation) = project(entity, alias.requires, state) else { continue };
            apply_rewrites(&mut representation, alias.input_rewrites, state);
            let text = representation.to_json();
            let next = out.locations.len();
            let i = match index.get(&text) {
                Some(&i) => i,
                None => {
                    if next > 0 {
                        out.representations.push(',');
                    }
                    out.representations.push_str(&text);
                    index.insert(text, next);
                    out.locations.push(Vec::new());
                    next
                }
            };
            out.locations[i].push(location);
        }
    }
    out.representations.push(']');
    out
}

/// `entity` narrowed to the `requires` selection (response keys equal field names there).
/// None when a required field is missing: such an entity cannot be resolved. A type condition
/// holds for its own type and, when it is an interface, for every object implementing it.
fn project(entity: &Data, requires: &SelectionSet, state: &SupergraphState) -> Option<Data> {
    let obj = entity.as_object()?;
    let mut out = Object::with_capacity(requires.items.len() + 1);
    // An abstract value's representation names its concrete type, as Apollo's planner sends it
    // (`packaging { __typename weight ... on Box { volume } }`): the subgraph cannot read an
    // interface value without it.
    let abstract_value = requires.items.iter().any(|i| matches!(i, SelectionItem::InlineFragment(_)));
    if abstract_value && let Some(typename) = obj.get("__typename") {
        out.insert("__typename", typename.clone());
    }
    for item in &requires.items {
        match item {
            SelectionItem::Field(f) => {
                let value = obj.get(&f.name)?;
                let projected = if f.selections.items.is_empty() {
                    value.clone()
                } else {
                    match value {
                        Data::List(items) => {
                            Data::List(items.iter().map(|v| project(v, &f.selections, state)).collect::<Option<_>>()?)
                        }
                        Data::Null => Data::Null,
                        v => project(v, &f.selections, state)?,
                    }
                };
                out.insert(f.name.as_str(), projected);
            }
            SelectionItem::InlineFragment(fragment) => {
                let typename = obj.get("__typename").and_then(Data::as_str).unwrap_or_default();
                let condition = fragment.type_condition.as_str();
                let holds = typename == condition
                    || state.interface_to_object_types.get(condition).is_some_and(|types| types.contains(typename));
                if holds && let Some(Data::Object(more)) = project(entity, &fragment.selections, state) {
                    for (k, v) in more.into_pairs() {
                        out.insert(k, v);
                    }
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(Data::Object(out))
}

/// Applies the planner's rewrites: set a value (e.g. `__typename` of an interface object) or
/// rename a key, where the path's type conditions match (an interface matches its objects).
fn apply_rewrites(value: &mut Data, rewrites: &[FetchRewrite], state: &SupergraphState) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                if let Some(slot) = walk_rewrite_path(value, &setter.path, state) {
                    *slot = Data::String(setter.set_value_to.as_str().into());
                }
            }
            FetchRewrite::KeyRenamer(renamer) => {
                let (last, parent) = match renamer.path.split_last() {
                    Some((FetchNodePathSegment::Key(k), parent)) => (k.clone(), parent),
                    _ => continue,
                };
                if let Some(Data::Object(obj)) = walk_rewrite_path(value, parent, state)
                    && let Some(v) = obj.remove(&last)
                {
                    obj.insert(renamer.rename_key_to.as_str(), v);
                }
            }
        }
    }
}

fn walk_rewrite_path<'v>(
    value: &'v mut Data,
    path: &[FetchNodePathSegment],
    state: &SupergraphState,
) -> Option<&'v mut Data> {
    let mut current = value;
    for segment in path {
        match segment {
            FetchNodePathSegment::TypenameEquals(types) => {
                let typename = current.get("__typename").and_then(Data::as_str).unwrap_or_default();
                let holds = types.iter().any(|t| {
                    t == typename
                        || state.interface_to_object_types.get(t).is_some_and(|objects| objects.contains(typename))
                });
                if !holds {
                    return None;
                }
            }
            FetchNodePathSegment::Key(k) => {
                current = current.as_object_mut()?.entry(k);
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
