//! Retention: a periodic sweep per subgraph that deletes rows once they have served their
//! purpose, so a long-running deployment stays small.
//!
//! Each [`Rule`] is one bounded `DELETE … WHERE <key> IN (SELECT <key> … LIMIT $2)` with a
//! cutoff `$1`: at most `batch_size` rows per statement (one short transaction each, on either
//! backend: PostgreSQL has no `DELETE … LIMIT`), and at most `max_batches` statements per rule
//! per sweep. Every statement filters on an indexed column. Deleted rows are counted in
//! `tessera_retention_deleted_rows_total{table}`.
//!
//! The kit sweeps its own tables for every subgraph (published outbox rows, handled inbox ids);
//! a subgraph adds the rules for its tables with [`crate::Runtime::retain`].

use std::{path::PathBuf, time::Duration};

use crate::{config::RetentionConfig, db::Db};

/// The unit a rule's time column is stored in.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Seconds,
    Millis,
}

/// Which setting gives a rule its age.
pub type Age = fn(&RetentionConfig) -> u32;

/// One table's sweep.
#[derive(Clone)]
pub struct Rule {
    /// The metric label (the table).
    pub table: &'static str,
    /// A `DELETE` of at most `$2` rows older than the cutoff `$1`.
    pub delete: &'static str,
    /// Days to keep, from the configuration.
    pub days: Age,
    pub unit: Unit,
}

/// The kit's own tables, swept in every subgraph.
pub fn kit_rules() -> Vec<Rule> {
    vec![
        Rule {
            table: "outbox",
            delete: "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at IS NOT NULL \
                     AND published_at < $1 LIMIT $2)",
            days: |c| c.outbox_days,
            unit: Unit::Millis,
        },
        Rule {
            table: "inbox",
            delete: "DELETE FROM inbox WHERE (consumer, event_id) IN (SELECT consumer, event_id FROM inbox \
                     WHERE handled_at < $1 LIMIT $2)",
            days: |c| c.inbox_days,
            unit: Unit::Millis,
        },
    ]
}

fn cutoff(days: u32, unit: Unit, now: chrono::DateTime<chrono::Utc>) -> i64 {
    let at = now - chrono::Duration::days(i64::from(days));
    match unit {
        Unit::Seconds => at.timestamp(),
        Unit::Millis => at.timestamp_millis(),
    }
}

/// Runs one sweep of `rules` now; answers the rows deleted per table.
pub async fn sweep(
    db: &Db,
    rules: &[Rule],
    config: &RetentionConfig,
    metrics: &crate::metrics::SubgraphMetrics,
) -> Vec<(&'static str, u64)> {
    let now = chrono::Utc::now();
    let mut report = Vec::new();
    for rule in rules {
        let before = cutoff((rule.days)(config), rule.unit, now);
        let mut deleted = 0u64;
        for _ in 0..config.max_batches.max(1) {
            let batch = i64::from(config.batch_size.max(1));
            let done = crate::on_db!(db, |pool| sqlx::query(rule.delete)
                .bind(before)
                .bind(batch)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()));
            match done {
                Ok(n) => {
                    deleted += n;
                    if n < batch.unsigned_abs() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(table = rule.table, error = %e, "retention sweep failed; retried next time");
                    break;
                }
            }
        }
        metrics.retention_deleted(rule.table, deleted);
        report.push((rule.table, deleted));
    }
    report
}

/// Deletes the files in `dir` last modified more than `days` ago (a development sink). Answers
/// how many went.
pub fn sweep_files(dir: &PathBuf, days: u32, extension: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let limit = Duration::from_secs(u64::from(days) * 86_400);
    let mut deleted = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(extension) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > limit);
        if old && std::fs::remove_file(&path).is_ok() {
            deleted += 1;
        }
    }
    deleted
}

/// Sweeps `rules` every `interval_seconds` until `stop` (the first sweep a minute after start,
/// out of the way of start-up).
pub fn spawn(
    db: Db,
    rules: Vec<Rule>,
    sinks: Vec<(PathBuf, &'static str)>,
    config: RetentionConfig,
    metrics: std::sync::Arc<crate::metrics::SubgraphMetrics>,
    stop: tokio_util::sync::CancellationToken,
) {
    if config.interval_seconds == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + Duration::from_secs(60.min(config.interval_seconds));
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            let mut report = sweep(&db, &rules, &config, &metrics).await;
            for (dir, extension) in &sinks {
                let files = sweep_files(dir, config.dev_sink_days, extension);
                metrics.retention_deleted("dev_sink_files", files);
                report.push(("dev_sink_files", files));
            }
            let total: u64 = report.iter().map(|(_, n)| n).sum();
            if total > 0 {
                tracing::info!(deleted = ?report, "retention sweep");
            }
            next = tokio::time::Instant::now() + Duration::from_secs(config.interval_seconds);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cutoff_is_that_many_days_ago_in_the_columns_unit() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-05T00:00:00Z").expect("a date").to_utc();
        assert_eq!(cutoff(1, Unit::Seconds, now), now.timestamp() - 86_400);
        assert_eq!(cutoff(7, Unit::Millis, now), now.timestamp_millis() - 7 * 86_400_000);
    }
}
