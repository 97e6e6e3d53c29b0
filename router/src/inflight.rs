//! Inbound request dedup: identical operations in flight share one execution.
//!
//! When many clients ask the same thing at once (a home page's query at peak), the first runs
//! it and the others wait for its answer instead of running it again. Two requests share only
//! when nothing that can change the answer differs: the same normalized operation, the same
//! variables, and the same forwarded headers (the per-request ones aside: request id, trace,
//! client address and agent), which carry the caller's `Authorization`, so two callers with
//! different tokens never share. Mutations and subscriptions never share. By default only
//! anonymous queries do (`router.traffic.inbound_dedup`: `off`, `anonymous`, `all`).
//!
//! A waiter whose leader goes away (its client disconnected, dropping the leader's future)
//! runs the operation itself rather than waiting forever.

use std::{collections::HashMap, sync::Arc};

use serde_json::Value;
use tessera_kit::config::InboundDedup;
use tokio::sync::watch;

use crate::{
    cache_key::{Digest, Lookup},
    execute::Forward,
};

type Slot<T> = watch::Sender<Option<Arc<T>>>;

/// Shares answers of type `T` (the router's: a serialized [`crate::reply::Reply`]).
pub struct Inflight<T> {
    running: std::sync::Mutex<HashMap<Digest, Slot<T>, Lookup>>,
}

impl<T> Default for Inflight<T> {
    fn default() -> Self {
        Self { running: std::sync::Mutex::new(HashMap::default()) }
    }
}

/// Forwarded headers that name the request or the client, not what is asked: they differ on
/// every request, and the anonymous response cache already serves one answer across them.
const PER_REQUEST: [&str; 4] = ["x-request-id", "traceparent", "x-forwarded-for", "user-agent"];

/// The key two requests must share to share one execution: the operation (its prepared
/// plan key), the variables, and the forwarded headers but the per-request ones: the caller's
/// `Authorization` among them.
pub fn key(plan_key: &Digest, variables: &serde_json::Map<String, Value>, forward: &Forward) -> Digest {
    let variables = Value::Object(variables.clone()).to_string();
    let mut headers = Vec::with_capacity(forward.0.len() * 2);
    for (name, value) in forward.0.iter().filter(|(name, _)| !PER_REQUEST.contains(&name.as_str())) {
        headers.push(name.as_str().as_bytes());
        headers.push(value.as_bytes());
    }
    let mut parts: Vec<&[u8]> = vec![b"inflight", plan_key.bytes(), variables.as_bytes()];
    parts.extend(headers);
    Digest::of(&parts)
}

/// Whether `policy` lets an operation share: queries only, and signed-in callers only under `all`.
pub fn applies(policy: InboundDedup, is_query: bool, anonymous: bool) -> bool {
    is_query
        && match policy {
            InboundDedup::Off => false,
            InboundDedup::Anonymous => anonymous,
            InboundDedup::All => true,
        }
}

/// Removes the leader's slot if its future is dropped before it answered.
struct Leading<'a, T> {
    inflight: &'a Inflight<T>,
    key: Digest,
    done: bool,
}

impl<T> Drop for Leading<'_, T> {
    fn drop(&mut self) {
        if !self.done {
            self.inflight.running.lock().expect("in-flight map poisoned").remove(&self.key);
        }
    }
}

impl<T: Clone> Inflight<T> {
    /// Runs `work`, or waits for an identical one already running and answers with its result;
    /// true when the answer was another request's.
    pub async fn share<F: Future<Output = T>>(&self, key: Digest, work: F) -> (T, bool) {
        let waiting = {
            let mut running = self.running.lock().expect("in-flight map poisoned");
            match running.get(&key) {
                Some(slot) => Some(slot.subscribe()),
                None => {
                    running.insert(key, watch::channel(None).0);
                    None
                }
            }
        };
        if let Some(mut answer) = waiting {
            loop {
                let seen = answer.borrow_and_update().clone();
                if let Some(value) = seen {
                    return ((*value).clone(), true);
                }
                if answer.changed().await.is_err() {
                    // The leader is gone: it answered just before (kept in the channel), or it
                    // was dropped, and then this request runs on its own.
                    // Read first: the channel's read guard must not live across `work`.
                    let last = answer.borrow().clone();
                    return match last {
                        Some(value) => ((*value).clone(), true),
                        None => (work.await, false),
                    };
                }
            }
        }
        let mut leading = Leading { inflight: self, key, done: false };
        let value = work.await;
        leading.done = true;
        if let Some(slot) = self.running.lock().expect("in-flight map poisoned").remove(&key) {
            slot.send_replace(Some(Arc::new(value.clone())));
        }
        (value, false)
    }

    /// Operations running now that others may join.
    #[cfg(test)]
    fn running(&self) -> usize {
        self.running.lock().expect("in-flight map poisoned").len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http::{HeaderName, HeaderValue};
    use serde_json::json;

    use super::*;

    fn forward(token: Option<&str>) -> Forward {
        Forward(
            token
                .map(|t| {
                    (
                        HeaderName::from_static("authorization"),
                        HeaderValue::from_str(&format!("Bearer {t}")).expect("ASCII"),
                    )
                })
                .into_iter()
                .collect(),
        )
    }

    #[test]
    fn two_callers_with_different_tokens_never_share_and_the_same_request_always_does() {
        let op = Digest::of(&[b"{ me { id } }"]);
        let vars = json!({ "first": 1 }).as_object().cloned().expect("an object");
        let alice = key(&op, &vars, &forward(Some("alice-token")));
        let bob = key(&op, &vars, &forward(Some("bob-token")));
        let nobody = key(&op, &vars, &forward(None));
        assert_ne!(alice, bob, "different tokens");
        assert_ne!(alice, nobody, "a token and none");
        assert_eq!(alice, key(&op, &vars, &forward(Some("alice-token"))), "the same request");
        let mut traced = forward(Some("alice-token"));
        traced.0.push((HeaderName::from_static("x-request-id"), HeaderValue::from_static("r-1")));
        traced.0.push((HeaderName::from_static("x-forwarded-for"), HeaderValue::from_static("203.0.113.9")));
        assert_eq!(alice, key(&op, &vars, &traced), "request ids and addresses do not change the answer");
        let other_vars = json!({ "first": 2 }).as_object().cloned().expect("an object");
        assert_ne!(nobody, key(&op, &other_vars, &forward(None)), "other variables");
        assert_ne!(nobody, key(&Digest::of(&[b"{ you { id } }"]), &vars, &forward(None)), "another operation");
    }

    #[test]
    fn only_queries_share_and_signed_in_callers_only_when_asked_for() {
        assert!(applies(InboundDedup::Anonymous, true, true));
        assert!(!applies(InboundDedup::Anonymous, true, false), "signed in: opt-in");
        assert!(applies(InboundDedup::All, true, false));
        assert!(!applies(InboundDedup::All, false, true), "never a mutation");
        assert!(!applies(InboundDedup::Off, true, true));
    }

    #[tokio::test]
    async fn identical_requests_in_flight_run_once_and_all_get_the_answer() {
        let inflight = Arc::new(Inflight::<Value>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, gate) = watch::channel(false);
        let key = Digest::of(&[b"same"]);
        let mut waiters = Vec::new();
        for _ in 0..5 {
            let (inflight, runs, mut gate) = (inflight.clone(), runs.clone(), gate.clone());
            waiters.push(tokio::spawn(async move {
                inflight
                    .share(key, async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let _ = gate.wait_for(|open| *open).await;
                        json!({ "data": { "n": 1 } })
                    })
                    .await
                    .0
            }));
        }
        while runs.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        release.send_replace(true);
        for waiter in waiters {
            assert_eq!(waiter.await.expect("joins"), json!({ "data": { "n": 1 } }));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one execution for five requests");
        assert_eq!(inflight.running(), 0, "nothing left behind");
    }

    #[tokio::test]
    async fn a_waiter_whose_leader_is_dropped_runs_the_operation_itself() {
        let inflight = Arc::new(Inflight::<Value>::default());
        let key = Digest::of(&[b"abandoned"]);
        let leader = {
            let inflight = inflight.clone();
            tokio::spawn(async move { inflight.share(key, std::future::pending::<Value>()).await.0 })
        };
        while inflight.running() == 0 {
            tokio::task::yield_now().await;
        }
        let waiter = {
            let inflight = inflight.clone();
            tokio::spawn(async move { inflight.share(key, async { json!("own") }).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        leader.abort();
        let answer = tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.expect("not stuck");
        assert_eq!(answer.expect("joins"), (json!("own"), false), "run on its own, not shared");
        assert_eq!(inflight.running(), 0);
    }
}
