//! A loaded supergraph: the planner, the API schema clients validate against, and the plan cache.
//!
//! Every request is parsed, validated against the API schema (the supergraph minus join
//! internals and `@inaccessible` elements) and normalized. The plan is then taken from a bounded
//! LRU cache keyed by the normalized operation's hash. Normalizing first means two spellings of
//! the same operation (aliases aside) share one plan.

use std::{
    hash::{Hash, Hasher},
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

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
use lru::LruCache;

use crate::limits::Limits;
use serde_json::{Value, json};

pub struct Supergraph {
    pub sdl: String,
    planner: Planner,
    /// Answers `__schema`/`__type`; None when introspection is turned off.
    pub introspection: Option<crate::introspection::Introspection>,
    validation: ValidationPlan,
    plans: Mutex<LruCache<u64, Arc<QueryPlan>>>,
    /// Parsed, validated and normalized documents by (query text, operation name): a repeated
    /// operation skips parsing and validation, which cost more than the rest of the pipeline.
    documents: Mutex<LruCache<u64, Arc<Prepared>>>,
    /// Input-object fields that declare a default (`marketing: Boolean! = false`): a variable may
    /// leave them out even when they are non-null. The planner's state does not keep defaults.
    input_defaults: crate::variables::InputDefaults,
}

/// A request parsed, validated and normalized: ready to authorize and plan.
pub struct Prepared {
    pub operation: OperationDefinition,
    pub kind: OperationKind,
    /// The plan-cache key of `operation` as it stands (before authorization prunes anything).
    pub plan_key: u64,
}

impl Supergraph {
    /// Loads a supergraph SDL (as `tessera compose` writes it). `plan_cache` bounds the cache.
    pub fn new(sdl: &str, plan_cache: usize, introspection: bool) -> Result<Self, String> {
        let doc = safe_parse_schema(sdl).map_err(|e| format!("the supergraph does not parse: {e}"))?;
        let planner = Planner::new_from_supergraph(&doc, QueryPlannerOptions::default())
            .map_err(|e| format!("the planner refused the supergraph: {e}"))?;
        let introspection = if introspection {
            Some(crate::introspection::Introspection::new(&planner.consumer_schema.document)?)
        } else {
            None
        };
        let input_defaults = crate::variables::InputDefaults::of(&doc);
        Ok(Self {
            input_defaults,
            sdl: sdl.to_owned(),
            introspection,
            planner,
            validation: default_rules_validation_plan(),
            plans: Mutex::new(LruCache::new(NonZeroUsize::new(plan_cache.max(1)).expect("at least one"))),
            documents: Mutex::new(LruCache::new(NonZeroUsize::new(plan_cache.max(1)).expect("at least one"))),
        })
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

    /// Parses, validates and normalizes `query`. Errors are GraphQL errors with codes, ready
    /// for the response.
    pub fn prepare(
        &self,
        query: &str,
        operation_name: Option<&str>,
        limits: &Limits,
    ) -> Result<Arc<Prepared>, Vec<Value>> {
        let key = hash(&(query, operation_name));
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
    ) -> Result<Prepared, Vec<Value>> {
        let doc = graphql_tools::parser::parse_query_with_token_limit::<String>(query, limits.max_tokens)
            .map(|d| d.into_static())
            .map_err(|e| vec![crate::limits::parse_error(&e.to_string())])?;
        let errors = graphql_tools::validation::validate::validate(
            &self.planner.consumer_schema.document,
            &doc,
            &self.validation,
        );
        if !errors.is_empty() {
            return Err(errors.iter().map(validation_error).collect());
        }
        let normalized = normalize_operation(self.state(), &doc, operation_name)
            .map_err(|e| vec![coded(&e.to_string(), "GRAPHQL_VALIDATION_FAILED")])?;
        let operation = normalized.operation;
        crate::limits::check(&operation, limits)?;
        let kind = operation.operation_kind.clone().unwrap_or(OperationKind::Query);
        let plan_key = hash(&operation.to_string());
        Ok(Prepared { operation, kind, plan_key })
    }

    /// Plans a normalized operation, through the cache (hits and misses are counted).
    pub fn plan(
        &self,
        operation: &OperationDefinition,
        metrics: &crate::metrics::Metrics,
    ) -> Result<Arc<QueryPlan>, Vec<Value>> {
        self.plan_keyed(hash(&operation.to_string()), operation, metrics)
    }

    /// Like [`Supergraph::plan`] with the cache key already known.
    pub fn plan_keyed(
        &self,
        key: u64,
        operation: &OperationDefinition,
        metrics: &crate::metrics::Metrics,
    ) -> Result<Arc<QueryPlan>, Vec<Value>> {
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
                vec![coded("The router could not plan this operation.", "QUERY_PLANNING_FAILED")]
            })?;
        let plan = Arc::new(plan);
        self.plans.lock().expect("plan cache lock poisoned").put(key, plan.clone());
        Ok(plan)
    }
}

fn hash(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

pub fn coded(message: &str, code: &str) -> Value {
    json!({ "message": message, "extensions": { "code": code } })
}

fn validation_error(e: &ValidationError) -> Value {
    let locations: Vec<Value> = e.locations.iter().map(|p| json!({ "line": p.line, "column": p.column })).collect();
    json!({ "message": e.message, "locations": locations, "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } })
}
