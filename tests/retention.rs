//! Retention: rows past their age are swept in bounded batches, what is still needed stays, and
//! an event redelivered inside the inbox window is still recognised as handled.

use std::sync::{Arc, Mutex};

use tessera::SUBGRAPHS;
use tessera_kit::{
    bus::{Event, inbox},
    config::RetentionConfig,
    db::Db,
    on_db,
    retention::{self, Rule},
};
use tessera_testkit::spawn_stack;
use uuid::Uuid;

const DAY_S: i64 = 86_400;
const DAY_MS: i64 = 86_400_000;

async fn count(db: &Db, sql: &str) -> i64 {
    on_db!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn rules(own: Vec<Rule>) -> Vec<Rule> {
    let mut all = retention::kit_rules();
    all.extend(own);
    all
}

#[tokio::test]
async fn rows_past_their_age_are_swept_and_what_is_still_needed_stays() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let auth = &stack.subgraph("auth").rt;
    let db = &auth.db;
    let now_s = chrono::Utc::now().timestamp();
    let now_ms = chrono::Utc::now().timestamp_millis();

    // The outbox: published 8 days ago (gone), yesterday (kept), and never published (kept,
    // however old: it still has to reach its consumers).
    for (published, created) in [
        (Some(now_ms - 8 * DAY_MS), now_ms - 8 * DAY_MS),
        (Some(now_ms - DAY_MS), now_ms - DAY_MS),
        (None, now_ms - 30 * DAY_MS),
    ] {
        let sql = "INSERT INTO outbox (id, kind, payload, created_at, next_attempt_at, published_at) VALUES ($1, 'Test', '{}', $2, $2, $3)";
        on_db!(db, |pool| sqlx::query(sql)
            .bind(Uuid::now_v7())
            .bind(created)
            .bind(published)
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("an outbox row");
    }
    // Sessions: one ended 31 days ago with its refresh tokens (gone), one alive with a rotated
    // token (kept: reusing it must still revoke the session).
    let (ended, alive) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, expires) in [(ended, now_s - 31 * DAY_S), (alive, now_s + DAY_S)] {
        let sql =
            "INSERT INTO sessions (id, account_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)";
        on_db!(db, |pool| sqlx::query(sql)
            .bind(id)
            .bind(Uuid::now_v7())
            .bind(expires - DAY_S)
            .bind(expires)
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("a session");
        for rotated in [Some(expires - DAY_S), None] {
            let sql =
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at) VALUES ($1, $2, $3, $4)";
            let hash = Uuid::now_v7().as_bytes().to_vec();
            on_db!(db, |pool| sqlx::query(sql)
                .bind(hash)
                .bind(id)
                .bind(expires - DAY_S)
                .bind(rotated)
                .execute(pool)
                .await
                .map(|_| ()))
            .expect("a refresh token");
        }
    }
    // Codes: expired 2 days ago (gone) and still valid (kept). The audit trail: 400 days (gone)
    // and yesterday (kept).
    for expires in [now_s - 2 * DAY_S, now_s + 600] {
        let sql = "INSERT INTO one_time_codes (id, account_id, purpose, destination, code_hash, created_at, expires_at) \
                   VALUES ($1, $2, 'VERIFY_EMAIL', 'x@example.com', $3, $4, $4)";
        on_db!(db, |pool| sqlx::query(sql)
            .bind(Uuid::now_v7())
            .bind(Uuid::now_v7())
            .bind(vec![1u8])
            .bind(expires)
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("a code");
    }
    for at in [now_s - 400 * DAY_S, now_s - DAY_S] {
        let sql = "INSERT INTO security_events (id, kind, detail, occurred_at) VALUES ($1, 'LOGIN_FAILED', '', $2)";
        on_db!(db, |pool| sqlx::query(sql).bind(Uuid::now_v7()).bind(at).execute(pool).await.map(|_| ()))
            .expect("an event");
    }

    let config = RetentionConfig { batch_size: 1, ..RetentionConfig::default() };
    let report = retention::sweep(db, &rules(tessera_auth::retention_rules()), &config, &auth.metrics).await;
    let deleted = |table: &str| report.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
    assert_eq!(deleted("outbox"), Some(1), "{report:?}");
    assert_eq!(deleted("refresh_tokens"), Some(2), "both tokens of the ended session, one per batch: {report:?}");
    assert_eq!(deleted("sessions"), Some(1), "{report:?}");
    assert_eq!(deleted("one_time_codes"), Some(1), "{report:?}");
    assert_eq!(deleted("security_events"), Some(1), "{report:?}");

    assert_eq!(count(db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL AND kind = 'Test'").await, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'Test'").await, 2);
    let alive_tokens =
        on_db!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM refresh_tokens WHERE session_id = $1")
            .bind(alive)
            .fetch_one(pool)
            .await)
        .expect("counted");
    assert_eq!(alive_tokens, 2, "a live session keeps its rotated tokens");
    assert_eq!(count(db, "SELECT COUNT(*) FROM one_time_codes").await, 1);

    // A second sweep finds nothing more, and the counts are exported.
    let again = retention::sweep(db, &rules(tessera_auth::retention_rules()), &config, &auth.metrics).await;
    assert!(again.iter().all(|(_, n)| *n == 0), "{again:?}");
    let text = reqwest::get(stack.subgraph("auth").url("/metrics")).await.expect("answers").text().await.expect("text");
    for line in [
        r#"tessera_retention_deleted_rows_total{table="sessions",subgraph="auth"} 1"#,
        r#"tessera_retention_deleted_rows_total{table="refresh_tokens",subgraph="auth"} 2"#,
        r#"tessera_retention_deleted_rows_total{table="inbox",subgraph="auth"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
}

#[derive(Clone, Default)]
struct Applied(Arc<Mutex<Vec<Uuid>>>);

impl inbox::Handler for Applied {
    async fn handle(&self, event: &Event, _tx: &mut tessera_kit::db::Tx) -> anyhow::Result<()> {
        self.0.lock().expect("not poisoned").push(event.id);
        Ok(())
    }
}

#[tokio::test]
async fn an_event_redelivered_inside_the_inbox_window_is_still_recognised_as_handled() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let users = &stack.subgraph("users").rt;
    let applied = Applied::default();
    let recent = Event::new("ProfileUpdated", serde_json::json!({}));
    let ancient = Event::new("ProfileUpdated", serde_json::json!({}));
    for event in [&recent, &ancient] {
        assert!(inbox::handle_once(&users.db, "retention-test", &applied, event).await.expect("handled"));
    }
    // One handled 13 days ago (inside the 14-day window), one 15 days ago (outside it).
    let now_ms = chrono::Utc::now().timestamp_millis();
    for (event, age) in [(&recent, 13), (&ancient, 15)] {
        let sql = "UPDATE inbox SET handled_at = $1 WHERE event_id = $2";
        on_db!(&users.db, |pool| sqlx::query(sql)
            .bind(now_ms - age * DAY_MS)
            .bind(event.id)
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("aged");
    }
    let report = retention::sweep(&users.db, &rules(vec![]), &RetentionConfig::default(), &users.metrics).await;
    assert_eq!(report.iter().find(|(t, _)| *t == "inbox").map(|(_, n)| *n), Some(1), "{report:?}");

    // Redelivered inside the window: recognised, not applied again.
    assert!(!inbox::handle_once(&users.db, "retention-test", &applied, &recent).await.expect("handled"));
    assert_eq!(applied.0.lock().expect("not poisoned").iter().filter(|id| **id == recent.id).count(), 1);
    // Past the window the record is gone: which is why the window must outlive any redelivery.
    assert!(inbox::handle_once(&users.db, "retention-test", &applied, &ancient).await.expect("handled"));
}
