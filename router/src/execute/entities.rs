//! Entity fetches: `_entities` calls for objects already in the response tree.
//!
//! A `Fetch` under a `Flatten` is one alias (`_entities` with `$representations`); a
//! `BatchFetch` is several aliases in one request. Either way: find the objects at each merge
//! path, project each onto the fields the subgraph `requires` (its key, `@requires` fields),
//! drop duplicate representations, send one request, and merge each answer back into every
//! object that shared its representation.

use hive_router_query_planner::{
    planner::plan_nodes::{BatchFetchNode, FetchNode, FetchRewrite, FlattenNodePath},
    state::supergraph_state::SupergraphState,
};
use serde_json::Value;

use super::{
    Run,
    fetch::{annotate, unavailable, variables_json},
    merge::{deep_merge, merge_copy},
    path::{Step, at_mut, each_at, each_mut, get, locate},
    representation::{Requires, apply_rewrites, representation},
};
use crate::data::Data;
use std::collections::HashMap;

pub(super) struct Alias<'p> {
    /// The response key of this alias's `_entities` field.
    response_key: String,
    variable: String,
    paths: Vec<&'p FlattenNodePath>,
    requires: Requires<'p>,
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
                requires: Requires::new(
                    fetch.requires.as_ref().expect("an entity fetch has requires"),
                    fetch.input_rewrites.as_deref().unwrap_or_default(),
                ),
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
                    requires: Requires::new(&a.requires, a.input_rewrites.as_deref().unwrap_or_default()),
                    output_rewrites: a.output_rewrites.as_deref().unwrap_or_default(),
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
    /// Each object met, in order: its representation (None: it had none), and where it is in
    /// the tree (`positions[ends[k - 1]..ends[k]]`, see `path::each_at`). See
    /// [`Run::entity_fetch`] for when the merge may go straight back there.
    visits: Vec<Option<usize>>,
    positions: Vec<u32>,
    ends: Vec<usize>,
}

impl Collected {
    /// Each object met that has a representation: where it is, and which.
    fn located(&self) -> impl Iterator<Item = (&[u32], usize)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.visits
            .iter()
            .zip(starts.zip(&self.ends))
            .filter_map(|(visit, (start, &end))| visit.map(|i| (&self.positions[start..end], i)))
    }
}

impl Run<'_> {
    pub(super) async fn entity_fetch(&self, fetch: &EntityFetch<'_>) {
        let (collected, epoch): (Vec<Collected>, u64) = {
            let data = self.data.lock().expect("data lock poisoned");
            (fetch.aliases.iter().map(|alias| collect(&data, alias, self.state)).collect(), self.reshapes())
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
        // While no merge since the objects were collected replaced an object or a list (this
        // fetch's own earlier aliases included), every object is still where it was met: go
        // straight there instead of walking the paths and writing every representation again.
        let mut trusted = self.reshapes() == epoch;
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
            // Give each object the answer for its representation: the last object sharing an
            // answer takes it, the others get a copy. True if the merge reshaped the tree.
            let mut left = c.uses.clone();
            let mut give = |entity: &mut Data, i: usize| -> bool {
                let (Some(slot), Some(left)) = (answers.get_mut(i), left.get_mut(i)) else { return false };
                *left = left.saturating_sub(1);
                if *left > 0 {
                    return slot.as_ref().is_some_and(|answer| merge_copy(entity, answer));
                }
                slot.take().is_some_and(|answer| deep_merge(entity, answer))
            };
            let mut reshaped = false;
            if trusted {
                for (position, i) in c.located() {
                    if let Some(entity) = at_mut(&mut data, position) {
                        reshaped |= give(entity, i);
                    }
                }
            } else {
                let mut buf = Vec::new();
                for path in &alias.paths {
                    each_mut(&mut data, path.as_slice(), &mut |entity| {
                        let Some(text) = representation(entity, &alias.requires, self.state, &mut buf) else {
                            return;
                        };
                        if let Some(&i) = c.index.get(text) {
                            reshaped |= give(entity, i);
                        }
                    });
                }
            }
            if reshaped {
                self.reshaped();
                trusted = false;
            }
        }
        drop(data);
        if !errors.is_empty() {
            let mapped: Vec<Value> = errors.drain(..).map(|e| remap_error(e, fetch, &error_paths)).collect();
            self.errors.lock().expect("errors lock poisoned").extend(mapped);
        }
    }
}

fn collect(data: &Data, alias: &Alias<'_>, state: &SupergraphState) -> Collected {
    let mut out = Collected {
        representations: String::from("["),
        index: HashMap::default(),
        uses: Vec::new(),
        visits: Vec::new(),
        positions: Vec::new(),
        ends: Vec::new(),
    };
    let mut buf = Vec::new();
    for path in &alias.paths {
        each_at(data, path.as_slice(), &mut Vec::new(), &mut |entity, position| {
            out.positions.extend_from_slice(position);
            out.ends.push(out.positions.len());
            let Some(text) = representation(entity, &alias.requires, state, &mut buf) else {
                out.visits.push(None);
                return;
            };
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
            out.visits.push(Some(i));
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
            let found = representation(entity, &alias.requires, state, &mut buf).and_then(|t| c.index.get(t).copied());
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
