//! A loaded supergraph: the planner, the API schema clients validate against, and the plan cache.
//!
//! Every request is parsed, validated against the API schema (the supergraph minus join
//! internals and `@inaccessible` elements) and normalized. The plan is then taken from a bounded
//! LRU cache keyed by the normalized operation's digest. Normalizing first means two spellings
//! of the same operation (aliases aside) share one plan.
//!
//! Preparing a document the cache has not seen is CPU work: callers run it on the blocking pool
//! ([`Supergraph::prepare`] is synchronous for that reason), and its cost is bounded before it is
//! paid (`limits::document`).

use std::sync::{Arc, Mutex};

use graphql_tools::validation::{
    rules::default_rules_validation_plan, utils::ValidationError, validate::ValidationPlan,
};
use hive_router_query_planner::{
    ast::{normalization::normalize_operation, operation::OperationDefinition},
    graph::PlannerOverrideContext,
    planner::{Planner, QueryPlannerOptions, plan_nodes::QueryPlan},
    state::supergraph_state::{OperationKind, SupergraphState},
    utils::{cancellation::CancellationToken, parsing::safe_parse_schema},
};

use crate::{
    cache_key::{Cache, Digest, Lookup, cache},
    error::{Refusal, RouterError},
    limits::Limits,
};

pub struct Supergraph {
    pub sdl: String,
    planner: Planner,
    /// Answers `__schema`/`__type`; None when introspection is turned off.
    pub introspection: Option<crate::introspection::Introspection>,
    validation: ValidationPlan,
    /// The API schema plus the directives the router itself handles (`@defer`), which
    /// documents are validated against.
    validation_schema: graphql_tools::static_graphql::schema::Document,
    plans: Mutex<Cache<Arc<QueryPlan>>>,
    /// Parsed, validated and normalized documents by (query text, operation name): a repeated
    /// operation skips parsing and validation, which cost more than the rest of the pipeline.
    documents: Mutex<Cache<Arc<Prepared>>>,
    /// Input-object fields that declare a default (`marketing: Boolean! = false`): a variable may
    /// leave them out even when they are non-null. The planner's state does not keep defaults.
    input_defaults: crate::variables::InputDefaults,
    /// Each enum's values in the client schema, to null a value a subgraph answers outside it.
    api_enums: crate::project::ApiEnums,
}

/// A request parsed, validated and normalized: ready to authorize and plan.
pub struct Prepared {
    pub operation: OperationDefinition,
    pub kind: OperationKind,
    /// The operation's `@defer`s, rewritten into variables (`crate::defer`); empty for most.
    pub defers: crate::defer::Defers,
    /// The plan-cache key of `operation` as it stands (before authorization prunes anything).
    /// It also identifies the client's operation in the response cache.
    pub plan_key: Digest,
    /// The length of the last response body written for it: the next one's buffer starts at
    /// that size instead of growing to it by doubling (`pipeline::reply`).
    pub body_size: std::sync::atomic::AtomicUsize,
}

impl Supergraph {
    /// Loads a supergraph SDL (as `tessera compose` writes it). `plan_cache` bounds the cache.
    pub fn new(sdl: &str, plan_cache: usize, introspection: bool) -> Result<Self, String> {
        Self::with_lookup(sdl, plan_cache, introspection, Lookup::default())
    }

    /// Like [`Supergraph::new`], with the caches' lookup hasher chosen (tests force collisions).
    pub fn with_lookup(sdl: &str, plan_cache: usize, introspection: bool, lookup: Lookup) -> Result<Self, String> {
        let doc = safe_parse_schema(sdl).map_err(|e| format!("the supergraph does not parse: {e}"))?;
        let planner = Planner::new_from_supergraph(&doc, QueryPlannerOptions::default())
            .map_err(|e| format!("the planner refused the supergraph: {e}"))?;
        let introspection = if introspection {
            Some(crate::introspection::Introspection::new(&planner.consumer_schema.document)?)
        } else {
            None
        };
        let input_defaults = crate::variables::InputDefaults::of(&doc);
        let api_enums = crate::project::ApiEnums::of(&planner.consumer_schema.document);
        let validation_schema = crate::defer::with_directive(&planner.consumer_schema.document);
        Ok(Self {
            validation_schema,
            input_defaults,
            api_enums,
            sdl: sdl.to_owned(),
            introspection,
            planner,
            validation: default_rules_validation_plan(),
            plans: Mutex::new(cache(plan_cache, lookup.clone())),
            documents: Mutex::new(cache(plan_cache, lookup)),
        })
    }

    pub fn api_enums(&self) -> &crate::project::ApiEnums {
        &self.api_enums
    }

    pub fn state(&self) -> &SupergraphState {
        &self.planner.supergraph
    }

    pub fn input_defaults(&self) -> &crate::variables::InputDefaults {
        &self.input_defaults
    }

    /// The name of the root type an operation of `kind` starts from.
    pub fn root_type(&self, kind: &OperationKind) -> Option<&str> {
        let state = self.state();
        match kind {
            OperationKind::Query => Some(state.query_type.as_str()),
            OperationKind::Mutation => state.mutation_type.as_deref(),
            OperationKind::Subscription => state.subscription_type.as_deref(),
        }
    }

    /// The prepared document for `query`, if the cache holds it: the cheap path, fine on any
    /// thread.
    pub fn cached(&self, query: &str, operation_name: Option<&str>) -> Option<Arc<Prepared>> {
        let key = document_key(query, operation_name);
        self.documents.lock().expect("document cache lock poisoned").get(&key).cloned()
    }

    /// Parses, validates and normalizes `query`, through the cache. Errors are coded and ready
    /// for the response. A miss costs CPU: call this off the async workers.
    pub fn prepare(
        &self,
        query: &str,
        operation_name: Option<&str>,
        limits: &Limits,
    ) -> Result<Arc<Prepared>, Refusal> {
        let key = document_key(query, operation_name);
        if let Some(prepared) = self.documents.lock().expect("document cache lock poisoned").get(&key) {
            return Ok(prepared.clone());
        }
        let prepared = Arc::new(self.prepare_uncached(query, operation_name, limits)?);
        self.documents.lock().expect("document cache lock poisoned").put(key, prepared.clone());
        Ok(prepared)
    }

    fn prepare_uncached(
        &self,
        query: &str,
        operation_name: Option<&str>,
        limits: &Limits,
    ) -> Result<Prepared, Refusal> {
        let mut doc = graphql_tools::parser::parse_query_with_token_limit::<String>(query, limits.max_tokens)
            .map(|d| d.into_static())
            .map_err(|e| crate::limits::parse_error(&e.to_string()))?;
        // Before validation and normalization, which both follow fragment spreads.
        crate::limits::document::check(&doc, limits)?;
        let errors = graphql_tools::validation::validate::validate(&self.validation_schema, &doc, &self.validation);
        if !errors.is_empty() {
            return Err(Refusal(errors.iter().map(validation_error).collect()));
        }
        // Most documents have no `@defer`: the text says so without a walk.
        let sites =
            if query.contains("defer") { crate::defer::rewrite(&mut doc, limits.max_defers)? } else { Vec::new() };
        let normalized = normalize_operation(self.state(), &doc, operation_name)
            .map_err(|e| RouterError::ValidationFailed { message: e.to_string(), locations: Vec::new() })?;
        let operation = normalized.operation;
        crate::limits::check(&operation, limits).map_err(Refusal)?;
        let kind = operation.operation_kind.clone().unwrap_or(OperationKind::Query);
        let plan_key = operation_key(&operation);
        let defers = crate::defer::Defers::new(sites, &operation);
        Ok(Prepared { operation, kind, plan_key, defers, body_size: Default::default() })
    }

    /// Plans a normalized operation, through the cache (hits and misses are counted).
    pub fn plan(
        &self,
        operation: &OperationDefinition,
        metrics: &crate::metrics::Metrics,
    ) -> Result<Arc<QueryPlan>, RouterError> {
        self.plan_keyed(operation_key(operation), operation, metrics)
    }

    /// The cached plan for `key`, counted as a hit when there is one.
    pub fn cached_plan(&self, key: &Digest, metrics: &crate::metrics::Metrics) -> Option<Arc<QueryPlan>> {
        let plan = self.plans.lock().expect("plan cache lock poisoned").get(key).cloned();
        if plan.is_some() {
            metrics.plan_cache.with_label_values(&["hit"]).inc();
        }
        plan
    }

    /// Like [`Supergraph::plan`] with the cache key already known.
    pub fn plan_keyed(
        &self,
        key: Digest,
        operation: &OperationDefinition,
        metrics: &crate::metrics::Metrics,
    ) -> Result<Arc<QueryPlan>, RouterError> {
        if let Some(plan) = self.plans.lock().expect("plan cache lock poisoned").get(&key) {
            metrics.plan_cache.with_label_values(&["hit"]).inc();
            return Ok(plan.clone());
        }
        metrics.plan_cache.with_label_values(&["miss"]).inc();
        let plan = self
            .planner
            .plan_from_normalized_operation(operation, PlannerOverrideContext::default(), &CancellationToken::new())
            .map_err(|e| {
                tracing::error!(error = %e, "planning failed");
                RouterError::QueryPlanningFailed
            })?;
        let plan = Arc::new(plan);
        self.plans.lock().expect("plan cache lock poisoned").put(key, plan.clone());
        Ok(plan)
    }
}

fn document_key(query: &str, operation_name: Option<&str>) -> Digest {
    // The name's presence is part of the key: no name and an empty name are different requests.
    let name = operation_name.map(str::as_bytes);
    Digest::of(&[query.as_bytes(), &[u8::from(name.is_some())], name.unwrap_or_default()])
}

/// The plan-cache key: the normalized operation's printed form.
pub fn operation_key(operation: &OperationDefinition) -> Digest {
    Digest::of(&[operation.to_string().as_bytes()])
}

fn validation_error(e: &ValidationError) -> RouterError {
    RouterError::ValidationFailed {
        message: e.message.clone(),
        locations: e.locations.iter().map(|p| (p.line, p.column)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = include_str!("../../schema/supergraph.graphql");

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn operations_whose_cache_keys_collide_are_never_served_each_others_document_or_plan() {
        let supergraph = Supergraph::with_lookup(SDL, 10, false, Lookup::Colliding).expect("loads");
        let metrics = crate::metrics::Metrics::default();
        let (a, b) = ("{ signedIn }", r#"{ product(id: "1") { name } }"#);
        let prepared_a = supergraph.prepare(a, None, &limits()).expect("prepares");
        let prepared_b = supergraph.prepare(b, None, &limits()).expect("prepares");
        assert_ne!(prepared_a.operation.to_string(), prepared_b.operation.to_string());
        assert_eq!(
            supergraph.prepare(a, None, &limits()).expect("cached").operation.to_string(),
            prepared_a.operation.to_string()
        );
        assert_eq!(supergraph.cached(b, None).expect("cached").operation.to_string(), prepared_b.operation.to_string());

        let plan_a = supergraph.plan(&prepared_a.operation, &metrics).expect("plans");
        let plan_b = supergraph.plan(&prepared_b.operation, &metrics).expect("plans");
        assert!(!Arc::ptr_eq(&plan_a, &plan_b));
        let again_b = supergraph.plan(&prepared_b.operation, &metrics).expect("plans");
        assert!(Arc::ptr_eq(&again_b, &plan_b), "b's own plan, from the cache");
        assert!(format!("{again_b:?}").contains("roducts"), "b's plan goes to products");
        let again_a = supergraph.plan(&prepared_a.operation, &metrics).expect("plans");
        assert!(Arc::ptr_eq(&again_a, &plan_a) && !format!("{again_a:?}").contains("roducts"), "a's own plan");
    }

    #[test]
    fn fragment_cycles_that_send_the_validator_in_circles_are_refused_without_overflowing() {
        let supergraph = Supergraph::new(SDL, 10, false).expect("loads");
        // Found by benches/fuzz.rs: graphql-tools' overlapping-fields rule followed this cycle
        // until the stack overflowed, aborting the process.
        let refusal = supergraph
            .prepare("{ signedIn } fragment F0 on Product { user { user { ...F0 } ...F0 } }", None, &limits())
            .err()
            .expect("refused");
        assert_eq!(refusal.errors()[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        assert_eq!(refusal.errors()[0]["message"], "Cannot spread fragment \"F0\" within itself.");
    }

    #[test]
    fn a_fragment_bomb_is_refused_before_it_is_validated_or_expanded() {
        let supergraph = Supergraph::new(SDL, 10, false).expect("loads");
        let mut query = String::from("{ product(id: \"1\") { ...F0 } }\n");
        for i in 0..24 {
            query.push_str(&format!("fragment F{i} on Product {{ ...F{} ...F{} }}\n", i + 1, i + 1));
        }
        query.push_str("fragment F24 on Product { id }\n");
        let started = std::time::Instant::now();
        let refusal = supergraph.prepare(&query, None, &limits()).err().expect("refused");
        assert_eq!(refusal.0, vec![RouterError::MaxSelections { limit: 10_000 }]);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused without expanding");
    }
}
