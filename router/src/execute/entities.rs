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
    path::{Step, each, each_mut, get, locate},
};
use crate::data::{Data, Object};
use std::collections::HashMap;

pub(super) struct Alias<'p> {
    /// The response key of this alias's `_entities` field.
    response_key: String,
    variable: String,
    paths: Vec<&'p FlattenNodePath>,
    requires: &'p SelectionSet,
    input_rewrites: &'p [FetchRewrite],
    output_rewrites: &'p [FetchRewrite],
    /// Its representations can be written straight from the entities (see [`write_direct`]).
    direct: bool,
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
            aliases: vec![
                Alias {
                    response_key: "_entities".into(),
                    variable: "representations".into(),
                    paths: vec![path],
                    requires: fetch.requires.as_ref().expect("an entity fetch has requires"),
                    input_rewrites: fetch.input_rewrites.as_deref().unwrap_or_default(),
                    output_rewrites: fetch.output_rewrites.as_deref().unwrap_or_default(),
                    direct: false,
                }
                .checked(),
            ],
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
                .map(|a| {
                    Alias {
                        response_key: a.alias.clone(),
                        variable: a.representations_variable_name.clone(),
                        paths: a.merge_paths.iter().collect(),
                        requires: &a.requires,
                        input_rewrites: a.input_rewrites.as_deref().unwrap_or_default(),
                        output_rewrites: a.output_rewrites.as_deref().unwrap_or_default(),
                        direct: false,
                    }
                    .checked()
                })
                .collect(),
        }
    }
}

/// Per alias: the distinct representations (as the JSON list sent), each one's position by its
/// JSON text, and how many objects share each.
struct Collected {
    representations: String,
    index: HashMap<String, usize, foldhash::fast::RandomState>,
    uses: Vec<usize>,
}

impl Run<'_> {
    pub(super) async fn entity_fetch(&self, fetch: &EntityFetch<'_>) {
        let collected: Vec<Collected> = {
            let data = self.data.lock().expect("data lock poisoned");
            fetch.aliases.iter().map(|alias| collect(&data, alias, self.state)).collect()
        };
        if collected.iter().all(|c| c.uses.is_empty()) {
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
        let first_paths = || -> FirstPaths {
            let data = self.data.lock().expect("data lock poisoned");
            fetch.aliases.iter().zip(&collected).map(|(a, c)| first_locations(&data, a, c, self.state)).collect()
        };
        let (mut data_in, mut errors) = match answer {
            Ok(answer) if !self.take_bytes(answer.bytes, || first_of(&first_paths())) => return,
            Ok(mut answer) => {
                self.cache_hint(&answer);
                super::entity_errors::index(answer.data.as_ref(), &mut answer.errors);
                (answer.data, answer.errors)
            }
            Err(failure) => {
                let paths = first_paths();
                for first in paths.iter().filter_map(|p| p.iter().flatten().next()) {
                    self.error(unavailable(&failure, Some(first.clone())));
                }
                return;
            }
        };
        // Where each representation's errors go: found before merging, while the objects still
        // have the representations they were sent with.
        let error_paths: FirstPaths = if errors.is_empty() { Vec::new() } else { first_paths() };
        let mut data = self.data.lock().expect("data lock poisoned");
        for (alias, c) in fetch.aliases.iter().zip(&collected) {
            let answers = data_in.as_mut().and_then(Data::as_object_mut).and_then(|o| o.get_mut(&alias.response_key));
            let Some(Data::List(answers)) = answers.map(Data::take) else { continue };
            let mut answers: Vec<Option<Data>> = answers
                .into_iter()
                .map(|mut answer| {
                    apply_rewrites(&mut answer, alias.output_rewrites, self.state);
                    Some(answer)
                })
                .collect();
            // Walk the paths again and give each object the answer for its representation: the
            // last object sharing an answer takes it, the others get a copy.
            let mut left = c.uses.clone();
            let mut buf = Vec::new();
            for path in &alias.paths {
                each_mut(&mut data, path.as_slice(), &mut |entity| {
                    let Some(text) = representation(entity, alias, self.state, &mut buf) else { return };
                    let Some(&i) = c.index.get(text) else { return };
                    let (Some(slot), Some(left)) = (answers.get_mut(i), left.get_mut(i)) else { return };
                    *left = left.saturating_sub(1);
                    let answer = if *left == 0 { slot.take() } else { slot.clone() };
                    if let Some(answer) = answer {
                        deep_merge(entity, answer);
                    }
                });
            }
        }
        drop(data);
        if !errors.is_empty() {
            let mapped: Vec<Value> = errors.drain(..).map(|e| remap_error(e, fetch, &error_paths)).collect();
            self.errors.lock().expect("errors lock poisoned").extend(mapped);
        }
    }
}

impl Alias<'_> {
    fn checked(mut self) -> Self {
        self.direct = self.input_rewrites.is_empty() && fields_only(self.requires);
        self
    }
}

/// Whether a selection can be written straight from the entity ([`write_direct`]): fields and
/// inline fragments, at every depth, where a response key selected twice selects no subfields
/// (so the first value written is the whole value).
fn fields_only(set: &SelectionSet) -> bool {
    let mut seen: Vec<(&str, bool)> = Vec::new();
    fn walk<'s>(set: &'s SelectionSet, seen: &mut Vec<(&'s str, bool)>) -> bool {
        set.items.iter().all(|item| match item {
            SelectionItem::Field(f) => {
                let nested = !f.selections.items.is_empty();
                let clash = seen.iter().any(|(name, had)| *name == f.name && (*had || nested));
                seen.push((&f.name, nested));
                !clash && fields_only(&f.selections)
            }
            SelectionItem::InlineFragment(fragment) => walk(&fragment.selections, seen),
            SelectionItem::FragmentSpread(_) => false,
        })
    }
    walk(set, &mut seen)
}

/// The representation `entity` is sent as (its `requires` fields, rewritten) as JSON text in
/// `buf`; None when a required field is missing. Written straight from the entity when the
/// selection allows it: most entities of a large answer go through here twice (collected,
/// then matched with their answer), and building a tree for each was a tenth of the router's
/// time.
fn representation<'b>(
    entity: &Data,
    alias: &Alias<'_>,
    state: &SupergraphState,
    buf: &'b mut Vec<u8>,
) -> Option<&'b str> {
    buf.clear();
    let written =
        if alias.direct { write_direct(entity, alias.requires, state, buf) } else { Err(Unwritable::Complex) };
    match written {
        Ok(()) => {}
        Err(Unwritable::Missing) => return None,
        Err(Unwritable::Complex) => {
            buf.clear();
            let mut representation = project(entity, alias.requires, state)?;
            apply_rewrites(&mut representation, alias.input_rewrites, state);
            serde_json::to_writer(&mut *buf, &representation).expect("a response tree always serializes");
        }
    }
    Some(std::str::from_utf8(buf).expect("JSON text is UTF-8"))
}

/// Why [`write_direct`] wrote no representation.
enum Unwritable {
    /// A required field is missing: the entity cannot be resolved.
    Missing,
    /// More fields than it tracks: build it as a tree instead.
    Complex,
}

/// Most distinct keys of one object [`write_direct`] tracks.
const DIRECT_KEYS: usize = 16;

/// [`project`] written as JSON, for a selection [`fields_only`] allows. Same keys and values as
/// `project`: an abstract value's `__typename` first, then the fields, those of the type
/// conditions that hold included, each key once.
fn write_direct(
    entity: &Data,
    set: &SelectionSet,
    state: &SupergraphState,
    out: &mut Vec<u8>,
) -> Result<(), Unwritable> {
    let obj = entity.as_object().ok_or(Unwritable::Missing)?;
    let mut written: [&str; DIRECT_KEYS] = [""; DIRECT_KEYS];
    let mut n = 0;
    out.push(b'{');
    let abstract_value = set.items.iter().any(|i| matches!(i, SelectionItem::InlineFragment(_)));
    let typename = obj.get("__typename").and_then(Data::as_str);
    if abstract_value && let Some(typename) = typename {
        out.extend_from_slice(b"\"__typename\":");
        serde_json::to_writer(&mut *out, typename).expect("a string always serializes");
        written[0] = "__typename";
        n = 1;
    }
    write_fields(obj, set, state, typename.unwrap_or_default(), out, &mut written, &mut n)?;
    out.push(b'}');
    Ok(())
}

fn write_fields<'s>(
    obj: &Object,
    set: &'s SelectionSet,
    state: &SupergraphState,
    typename: &str,
    out: &mut Vec<u8>,
    written: &mut [&'s str; DIRECT_KEYS],
    n: &mut usize,
) -> Result<(), Unwritable> {
    for item in &set.items {
        match item {
            SelectionItem::Field(f) => {
                if written[..*n].contains(&f.name.as_str()) {
                    continue;
                }
                if *n == DIRECT_KEYS {
                    return Err(Unwritable::Complex);
                }
                let value = obj.get(&f.name).ok_or(Unwritable::Missing)?;
                if *n > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, f.name.as_str()).expect("a string always serializes");
                out.push(b':');
                write_value(value, &f.selections, state, out)?;
                written[*n] = &f.name;
                *n += 1;
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = fragment.type_condition.as_str();
                let holds = typename == condition
                    || state.interface_to_object_types.get(condition).is_some_and(|types| types.contains(typename));
                // `project` drops a fragment whose fields are missing and keeps the entity: a
                // partial write cannot be taken back, so that case goes the tree's way.
                if holds {
                    write_fields(obj, &fragment.selections, state, typename, out, written, n).map_err(|e| match e {
                        Unwritable::Missing => Unwritable::Complex,
                        other => other,
                    })?;
                }
            }
            SelectionItem::FragmentSpread(_) => return Err(Unwritable::Complex),
        }
    }
    Ok(())
}

fn write_value(
    value: &Data,
    selections: &SelectionSet,
    state: &SupergraphState,
    out: &mut Vec<u8>,
) -> Result<(), Unwritable> {
    match value {
        _ if selections.items.is_empty() => {
            serde_json::to_writer(&mut *out, value).expect("a response tree always serializes");
        }
        Data::Null => out.extend_from_slice(b"null"),
        Data::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, selections, state, out)?;
            }
            out.push(b']');
        }
        v => write_direct(v, selections, state, out)?,
    }
    Ok(())
}

fn collect(data: &Data, alias: &Alias<'_>, state: &SupergraphState) -> Collected {
    let mut out = Collected { representations: String::from("["), index: HashMap::default(), uses: Vec::new() };
    let mut buf = Vec::new();
    for path in &alias.paths {
        each(data, path.as_slice(), &mut |entity| {
            let Some(text) = representation(entity, alias, state, &mut buf) else { return };
            let next = out.uses.len();
            let i = match out.index.get(text) {
                Some(&i) => i,
                None => {
                    if next > 0 {
                        out.representations.push(',');
                    }
                    out.representations.push_str(text);
                    out.index.insert(text.to_owned(), next);
                    out.uses.push(0);
                    next
                }
            };
            out.uses[i] += 1;
        });
    }
    out.representations.push(']');
    out
}

/// For each representation of `c`, the client path of the first object that sent it (errors
/// and failures are reported there). Only worked out when there is something to report.
fn first_locations(data: &Data, alias: &Alias<'_>, c: &Collected, state: &SupergraphState) -> Vec<Option<Vec<Value>>> {
    let mut first = vec![None; c.uses.len()];
    let mut buf = Vec::new();
    for path in &alias.paths {
        for location in locate(data, path.as_slice()) {
            let Some(entity) = get(data, &location) else { continue };
            let found = representation(entity, alias, state, &mut buf).and_then(|t| c.index.get(t).copied());
            let Some(i) = found else { continue };
            if first[i].is_none() {
                first[i] = Some(location.iter().copied().map(Step::to_json).collect());
            }
        }
    }
    first
}

/// Per alias, per representation: the client path errors about it are reported at.
type FirstPaths = Vec<Vec<Option<Vec<Value>>>>;

fn first_of(paths: &[Vec<Option<Vec<Value>>>]) -> Option<Vec<Value>> {
    paths.iter().find_map(|p| p.iter().flatten().next()).cloned()
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
fn remap_error(mut error: Value, fetch: &EntityFetch<'_>, first: &[Vec<Option<Vec<Value>>>]) -> Value {
    let path = error.get("path").and_then(Value::as_array).cloned();
    if let Some(path) = path
        && let (Some(Value::String(key)), Some(i)) = (path.first(), path.get(1).and_then(Value::as_u64))
        && let Some(pos) = fetch.aliases.iter().position(|a| &a.response_key == key)
        && let Some(Some(location)) = first.get(pos).and_then(|l| l.get(i as usize))
    {
        let mut client_path = location.clone();
        client_path.extend(path.into_iter().skip(2));
        error["path"] = Value::Array(client_path);
    }
    annotate(error, fetch.service)
}
