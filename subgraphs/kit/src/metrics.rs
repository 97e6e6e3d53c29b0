//! Prometheus metrics for one subgraph, served on its own `/metrics` (allowlisted like the
//! router's, by `router.metrics_allow`).
//!
//! Every series carries `subgraph="<name>"`, so one Prometheus job can scrape all five and a
//! dashboard can split by it. Labels are bounded by the schema or by our own enums, never by
//! what a client sends: operations are counted by root field (`login`, `_entities`), not by the
//! client-chosen operation name, and errors by their stable `extensions.code`.
//!
//! Counters and histograms are updated as things happen; gauges that describe stored state
//! (pool use, the outbox backlog, a subgraph's own queue depths) are read when Prometheus
//! scrapes, so they cost nothing between scrapes.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use async_graphql::{
    Response, ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo},
};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
    core::Collector,
};

use crate::db::Db;

const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// How old an event is when its consumer applies it: from a blink to a long outage.
const AGE_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0];

/// A gauge read from the subgraph's database at each scrape (`SELECT COUNT(*) …`).
struct SqlGauge {
    gauge: IntGauge,
    sql: &'static str,
}

pub struct SubgraphMetrics {
    registry: Registry,
    operations: IntCounterVec,
    errors: IntCounterVec,
    fields: HistogramVec,
    consumer_events: IntCounterVec,
    consumer_age: HistogramVec,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    outbox_pending: IntGauge,
    outbox_age: Gauge,
    retention: IntCounterVec,
    sql_gauges: Mutex<Vec<SqlGauge>>,
}

impl SubgraphMetrics {
    pub fn new(subgraph: &str) -> Self {
        let labels = [("subgraph".to_owned(), subgraph.to_owned())].into_iter().collect();
        let registry = Registry::new_custom(Some("tessera".into()), Some(labels)).expect("a valid prefix");
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels)
                .expect("a valid metric");
            registry.register(Box::new(h.clone())).expect("registered once");
            h
        };
        let int_gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("a valid metric");
            registry.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let pool = IntGaugeVec::new(Opts::new("db_pool_connections", "Database connections by state"), &["state"])
            .expect("a valid metric");
        registry.register(Box::new(pool.clone())).expect("registered once");
        let outbox_age =
            Gauge::new("outbox_oldest_pending_age_seconds", "Age of the oldest event not yet published (0: none)")
                .expect("a valid metric");
        registry.register(Box::new(outbox_age.clone())).expect("registered once");
        if let Err(e) = registry.register(Box::new(crate::jwt::JWKS_FETCHES.clone())) {
            tracing::warn!(error = %e, "the JWKS fetch counter was not registered");
        }
        Self {
            operations: counter("graphql_operations_total", "GraphQL operations executed, by outcome", &["outcome"]),
            errors: counter("graphql_errors_total", "GraphQL errors answered, by extensions.code", &["code"]),
            fields: histogram(
                "graphql_root_field_duration_seconds",
                "Time to resolve each root field (an operation's entry points), by field",
                &["field"],
                &LATENCY_BUCKETS,
            ),
            consumer_events: counter(
                "consumer_events_total",
                "Events a consumer received, by result (applied, duplicate, failed)",
                &["consumer", "result"],
            ),
            consumer_age: histogram(
                "consumer_event_age_seconds",
                "How old an event was when its consumer applied it (the consumer's lag)",
                &["consumer"],
                &AGE_BUCKETS,
            ),
            pool,
            pool_max: int_gauge("db_pool_max_connections", "Most database connections the pool may open"),
            outbox_pending: int_gauge("outbox_pending_events", "Events written to the outbox and not yet published"),
            outbox_age,
            retention: counter(
                "retention_deleted_rows_total",
                "Rows the retention sweeps deleted, by table",
                &["table"],
            ),
            sql_gauges: Mutex::new(Vec::new()),
            registry,
        }
    }

    /// Adds a collector of the subgraph's own (a counter it updates), under the same prefix
    /// and `subgraph` label.
    pub fn register(&self, collector: Box<dyn Collector>) {
        if let Err(e) = self.registry.register(collector) {
            tracing::warn!(error = %e, "a metric was not registered");
        }
    }

    /// A gauge read at each scrape by `sql`, a statement answering one integer (`SELECT
    /// COUNT(*) …`; keep it on an index: it runs every scrape interval).
    pub fn sql_gauge(&self, name: &str, help: &str, sql: &'static str) {
        let gauge = IntGauge::new(name, help).expect("a valid metric");
        self.register(Box::new(gauge.clone()));
        self.sql_gauges.lock().expect("sql gauges lock poisoned").push(SqlGauge { gauge, sql });
    }

    /// One event handled by `consumer`: `applied`, `duplicate` (already handled: nothing done)
    /// or `failed` (left for redelivery); `age` from when it occurred.
    pub fn consumed(&self, consumer: &str, result: &str, age: std::time::Duration) {
        self.consumer_events.with_label_values(&[consumer, result]).inc();
        if result == "applied" {
            self.consumer_age.with_label_values(&[consumer]).observe(age.as_secs_f64());
        }
    }

    /// `n` rows of `table` deleted by a retention sweep (0 still makes the series exist).
    pub fn retention_deleted(&self, table: &str, n: u64) {
        self.retention.with_label_values(&[table]).inc_by(n);
    }

    /// Reads the scrape-time gauges from `db`, then renders every series in Prometheus' text
    /// format. A gauge whose statement fails keeps its last value (logged).
    pub async fn render(&self, db: &Db) -> String {
        let (size, idle, max) = db.pool_stats();
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool.with_label_values(&["in_use"]).set(i64::from(size.saturating_sub(idle)));
        self.pool_max.set(i64::from(max));
        match outbox_backlog(db).await {
            Ok((pending, oldest)) => {
                self.outbox_pending.set(pending);
                let now = chrono::Utc::now().timestamp_millis();
                let age = oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
                self.outbox_age.set(age);
            }
            Err(e) => tracing::warn!(error = %e, "outbox backlog not read for /metrics"),
        }
        let gauges: Vec<(IntGauge, &'static str)> = self
            .sql_gauges
            .lock()
            .expect("sql gauges lock poisoned")
            .iter()
            .map(|g| (g.gauge.clone(), g.sql))
            .collect();
        for (gauge, sql) in gauges {
            match count(db, sql).await {
                Ok(n) => gauge.set(n),
                Err(e) => tracing::warn!(error = %e, sql, "a gauge was not read for /metrics"),
            }
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

async fn outbox_backlog(db: &Db) -> Result<(i64, Option<i64>), sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_as::<_, (i64, Option<i64>)>(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL"
    )
    .fetch_one(pool)
    .await)
}

async fn count(db: &Db, sql: &'static str) -> Result<i64, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
}

/// The schema extension that counts operations, times root fields and counts error codes. It
/// finds the subgraph's [`SubgraphMetrics`] in the request data (the kit's handlers put it
/// there); a schema run without it (tests, the SDL export) records nothing.
pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Observer)
    }
}

struct Observer;

#[async_graphql::async_trait::async_trait]
impl Extension for Observer {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        if let Some(metrics) = ctx.data_opt::<Arc<SubgraphMetrics>>() {
            let outcome = if response.errors.is_empty() { "ok" } else { "error" };
            metrics.operations.with_label_values(&[outcome]).inc();
            for e in &response.errors {
                let code = match e.extensions.as_ref().and_then(|x| x.get("code")) {
                    Some(Value::String(code)) if code.len() <= 40 => code.as_str(),
                    _ => "INTERNAL",
                };
                metrics.errors.with_label_values(&[code]).inc();
            }
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // Only root fields: one clock read per operation entry point, not per field of the answer.
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let Some(metrics) = ctx.data_opt::<Arc<SubgraphMetrics>>().cloned() else {
            return next.run(ctx, info).await;
        };
        let field = info.path_node.field_name().to_owned();
        let started = Instant::now();
        let result = next.run(ctx, info).await;
        metrics.fields.with_label_values(&[field.as_str()]).observe(started.elapsed().as_secs_f64());
        result
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn hello(&self) -> &str {
            "hi"
        }
        async fn refuse(&self) -> async_graphql::Result<i32> {
            Err(crate::ApiError::forbidden("no").into())
        }
    }

    #[tokio::test]
    async fn operations_root_fields_and_error_codes_are_counted_with_the_subgraph_label() {
        let metrics = Arc::new(SubgraphMetrics::new("users"));
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription).extension(Observe).finish();
        for _ in 0..2 {
            schema.execute(async_graphql::Request::new("{ hello }").data(metrics.clone())).await;
        }
        let refused = schema.execute(async_graphql::Request::new("{ refuse }").data(metrics.clone())).await;
        assert_eq!(refused.errors.len(), 1);
        // Without the metrics in its data a request is simply not counted.
        schema.execute("{ hello }").await;

        let dir = tempfile::tempdir().expect("a directory");
        let db = Db::sqlite_file(&dir.path().join("m.db"), 2).await.expect("a database");
        crate::on_db!(&db, |pool| sqlx::query("CREATE TABLE outbox (created_at BIGINT, published_at BIGINT)")
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("an outbox");
        let text = metrics.render(&db).await;
        for line in [
            r#"tessera_graphql_operations_total{outcome="ok",subgraph="users"} 2"#,
            r#"tessera_graphql_operations_total{outcome="error",subgraph="users"} 1"#,
            r#"tessera_graphql_errors_total{code="FORBIDDEN",subgraph="users"} 1"#,
            r#"tessera_graphql_root_field_duration_seconds_count{field="hello",subgraph="users"} 2"#,
            r#"tessera_outbox_pending_events{subgraph="users"} 0"#,
            r#"tessera_outbox_oldest_pending_age_seconds{subgraph="users"} 0"#,
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert!(text.contains(r#"tessera_db_pool_max_connections{subgraph="users"}"#), "{text}");
    }
}
