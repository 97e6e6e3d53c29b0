//! Running a deferred query: the initial execution and one per deferred fragment, all at once,
//! each payload sent as soon as it may be (see the module above).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::{StreamExt, stream::FuturesUnordered};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::wire::{self, Format, Item, Pending};
use crate::{
    RouterState,
    error::RouterError,
    execute::{Forward, Outcome},
    pipeline::{Ready, run, shaped_traced},
    project::Trace,
};

/// Sends the payloads of `ready` (a query with at least one active deferred fragment) to
/// `tx`, the last with `hasNext: false`. Stops when the client goes away (`tx` closes).
pub(crate) async fn deliver(
    state: Arc<RouterState>,
    ready: Ready,
    forward: Forward,
    format: Format,
    tx: mpsc::Sender<Value>,
) {
    tokio::select! {
        () = run_all(&state, &ready, &forward, format, &tx) => {}
        () = tx.closed() => {}
    }
}

/// What is known of each deferred fragment as the executions come back.
struct Progress<'a> {
    ready: &'a Ready,
    active: Vec<usize>,
    /// Each active site's active ancestors.
    ancestors: HashMap<usize, Vec<usize>>,
    /// The `@include` variables of the active sites: what every projection watches for.
    watch: Vec<String>,
    /// Sites whose payloads went out, or that turned out to apply nowhere.
    done: BTreeSet<usize>,
    announced: HashMap<usize, Vec<Pending>>,
    /// Finished executions of announced sites, waiting for their turn.
    finished: HashMap<usize, Outcome>,
    /// The response as the client has it so far: where a fragment may still apply.
    view: Value,
    ids: usize,
}

async fn run_all(state: &RouterState, ready: &Ready, forward: &Forward, format: Format, tx: &mpsc::Sender<Value>) {
    let defers = &ready.prepared.defers;
    let active = defers.active(&ready.variables);
    let ancestors: HashMap<usize, Vec<usize>> =
        active.iter().map(|&site| (site, defers.active_ancestors(site, &active))).collect();
    // Each execution's variables: the initial one's first, then one per active site.
    let mut variables = vec![defers.variables(&ready.variables, &active, &[])];
    for &site in &active {
        let mut on = ancestors[&site].clone();
        on.push(site);
        variables.push(defers.variables(&ready.variables, &active, &on));
    }
    let sites: Vec<Option<usize>> = std::iter::once(None).chain(active.iter().copied().map(Some)).collect();
    let mut runs: FuturesUnordered<_> = variables
        .iter()
        .zip(sites)
        .map(|(vars, site)| async move { (site, run(state, ready, vars, forward).await) })
        .collect();
    let watch = active.iter().map(|&s| defers.sites[s].var.clone()).collect();
    let mut progress = Progress {
        ready,
        active: active.clone(),
        ancestors,
        watch,
        done: BTreeSet::new(),
        announced: HashMap::new(),
        finished: HashMap::new(),
        view: Value::Null,
        ids: 0,
    };
    let mut initial_sent = false;
    while let Some((site, outcome)) = runs.next().await {
        let mut payloads = Vec::new();
        match site {
            None => {
                payloads.push(progress.initial(format, &variables[0], outcome));
                initial_sent = true;
            }
            Some(site) => {
                progress.finished.insert(site, outcome);
            }
        }
        if initial_sent {
            while let Some(site) = progress.next_deliverable() {
                let index = 1 + active.iter().position(|&s| s == site).expect("an active site");
                payloads.push(progress.deferred(format, site, &variables[index]));
            }
        }
        for payload in payloads {
            let last = payload["hasNext"] == false;
            if tx.send(payload).await.is_err() || last {
                return;
            }
        }
    }
}

impl Progress<'_> {
    fn has_next(&self) -> bool {
        self.active.iter().any(|s| !self.done.contains(s))
    }

    fn initial(&mut self, format: Format, variables: &Map<String, Value>, outcome: Outcome) -> Value {
        let mut errors = outcome.errors;
        let trace = Trace { watch: self.watch.clone(), ..Trace::default() };
        let (data, trace) = shaped_traced(self.ready, variables, &outcome.data, &mut errors, trace);
        let data = Value::from(&data);
        self.view = data.clone();
        let pending = self.announce(&trace.found);
        wire::initial(format, data, &errors, &pending, self.has_next())
    }

    /// An announced site whose execution has finished, if any.
    fn next_deliverable(&self) -> Option<usize> {
        self.announced.keys().copied().find(|s| !self.done.contains(s) && self.finished.contains_key(s))
    }

    fn deferred(&mut self, format: Format, site: usize, variables: &Map<String, Value>) -> Value {
        let outcome = self.finished.remove(&site).expect("a finished execution");
        let var = self.ready.prepared.defers.sites[site].var.clone();
        // The operation's own errors (refused fields) went out with the initial payload.
        let mut errors = outcome.errors;
        errors.drain(..self.ready.errors.len().min(errors.len()));
        let trace = Trace { watch: self.watch.clone(), capture: Some(var), ..Trace::default() };
        let (_, trace) = shaped_traced(self.ready, variables, &outcome.data, &mut errors, trace);
        let items: Vec<Item> = self.announced[&site]
            .iter()
            .map(|pending| {
                let captured = trace.captured.iter().find(|(path, ..)| path == &pending.path);
                let (data, errors) = match captured {
                    Some((_, data, errors)) => (data.clone(), errors.clone()),
                    // The fragment's place changed between the executions (the data did).
                    None => (Value::Null, vec![RouterError::DeferredFragmentLost.at(&pending.path)]),
                };
                Item { pending: pending.clone(), data, errors }
            })
            .collect();
        for item in &items {
            merge_at(&mut self.view, &item.pending.path, &item.data);
        }
        self.done.insert(site);
        let pending = self.announce(&trace.found);
        wire::subsequent(format, &pending, &items, self.has_next())
    }

    /// Announces every site whose ancestors have all been delivered, at the places `found`
    /// puts it that the client's response has an object at. A site that applies nowhere is
    /// done at once.
    fn announce(&mut self, found: &[(String, Vec<Value>)]) -> Vec<Pending> {
        let mut pending = Vec::new();
        loop {
            let candidate = self.active.iter().copied().find(|s| {
                !self.done.contains(s)
                    && !self.announced.contains_key(s)
                    && self.ancestors[s].iter().all(|a| self.done.contains(a))
            });
            let Some(site) = candidate else { return pending };
            let defer = &self.ready.prepared.defers.sites[site];
            let places: Vec<Pending> = found
                .iter()
                .filter(|(var, path)| var == &defer.var && object_at(&self.view, path))
                .map(|(_, path)| {
                    self.ids += 1;
                    Pending { id: self.ids - 1, path: path.clone(), label: defer.label.clone() }
                })
                .collect();
            if places.is_empty() {
                self.done.insert(site);
            } else {
                pending.extend(places.iter().cloned());
                self.announced.insert(site, places);
            }
        }
    }
}

fn at<'v>(value: &'v Value, path: &[Value]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, step| match step {
        Value::String(key) => v.get(key.as_str()),
        Value::Number(n) => v.get(usize::try_from(n.as_u64()?).ok()?),
        _ => None,
    })
}

fn object_at(view: &Value, path: &[Value]) -> bool {
    at(view, path).is_some_and(Value::is_object)
}

/// Deep-merges a delivered fragment's data into the client's view at `path`.
fn merge_at(view: &mut Value, path: &[Value], data: &Value) {
    let mut target = view;
    for step in path {
        let next = match step {
            Value::String(key) => target.get_mut(key.as_str()),
            Value::Number(n) => n.as_u64().and_then(|i| target.get_mut(usize::try_from(i).ok()?)),
            _ => None,
        };
        let Some(next) = next else { return };
        target = next;
    }
    merge(target, data);
}

fn merge(target: &mut Value, data: &Value) {
    match (target, data) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from)) if into.len() == from.len() => {
            for (existing, value) in into.iter_mut().zip(from) {
                merge(existing, value);
            }
        }
        (target, data) => *target = data.clone(),
    }
}
