//! Every subgraph serves Prometheus `/metrics` of its own, allowlisted like the router's:
//! operations by root field and outcome, error codes, pool use, the outbox backlog, consumer
//! results and lag, and the identity and delivery signals an operator is alerted on.

mod common;

use common::{gql, login, register};
use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, eventually, spawn_configured, spawn_stack, test_bus};

async fn metrics(stack: &TestStack, subgraph: &str) -> (u16, String) {
    let res = reqwest::get(stack.subgraph(subgraph).url("/metrics")).await.expect("answers");
    (res.status().as_u16(), res.text().await.expect("text"))
}

/// The value of the first series of `text` whose line starts with `prefix` (name and labels).
fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn each_subgraph_counts_its_operations_errors_pool_outbox_and_consumers() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let user = register(&stack, "metered").await;
    let wrong = login(&stack, "metered", "not the password at all").await;
    assert!(wrong["errors"].is_array(), "{wrong}");
    let body = gql(&stack, "{ me { username profile { timezone } } }", json!({}), Some(&user.access)).await;
    assert!(body["errors"].is_null(), "{body}");

    // auth: its root fields and the failed sign-in, under its own label.
    let (status, auth) = metrics(&stack, "auth").await;
    assert_eq!(status, 200);
    assert!(
        value(&auth, r#"tessera_graphql_root_field_duration_seconds_count{field="register",subgraph="auth"}"#)
            >= Some(1.0),
        "{auth}"
    );
    assert!(
        value(&auth, r#"tessera_graphql_errors_total{code="UNAUTHENTICATED",subgraph="auth"}"#) >= Some(1.0),
        "{auth}"
    );
    assert!(
        value(&auth, r#"tessera_security_events_total{kind="LOGIN_FAILED",subgraph="auth"}"#) >= Some(1.0),
        "{auth}"
    );
    assert!(value(&auth, r#"tessera_db_pool_max_connections{subgraph="auth"}"#) > Some(0.0), "{auth}");
    assert!(auth.contains(r#"tessera_outbox_pending_events{subgraph="auth"}"#), "{auth}");

    // users: the router asked it for its part of `me` (`me` is a root field of both subgraphs).
    let (_, users) = metrics(&stack, "users").await;
    assert!(
        value(&users, r#"tessera_graphql_root_field_duration_seconds_count{field="me",subgraph="users"}"#) >= Some(1.0),
        "{users}"
    );
    assert!(
        value(&users, r#"tessera_graphql_operations_total{outcome="ok",subgraph="users"}"#) >= Some(1.0),
        "{users}"
    );

    // The registration reached users' and notifications' consumers, and its welcome mail the queue.
    eventually("users and notifications apply AccountRegistered", || async {
        let (_, users) = metrics(&stack, "users").await;
        let (_, notifications) = metrics(&stack, "notifications").await;
        value(&users, r#"tessera_consumer_events_total{consumer="users",result="applied",subgraph="users"}"#)
            >= Some(1.0)
            && value(
                &notifications,
                r#"tessera_consumer_event_age_seconds_count{consumer="notifications",subgraph="notifications"}"#,
            ) >= Some(1.0)
    })
    .await;
    let (_, notifications) = metrics(&stack, "notifications").await;
    assert!(notifications.contains(r#"tessera_delivery_queue_depth{subgraph="notifications"}"#), "{notifications}");
    assert_eq!(
        value(&notifications, r#"tessera_delivery_dead_letters{subgraph="notifications"}"#),
        Some(0.0),
        "{notifications}"
    );
}

#[tokio::test]
async fn a_subgraphs_metrics_are_refused_to_addresses_outside_the_allowlist() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.metrics_allow = vec![]).await;
    for subgraph in ["auth", "users", "products", "orders", "notifications"] {
        let (status, body) = metrics(&stack, subgraph).await;
        assert_eq!(status, 403, "{subgraph}: {body}");
        assert!(!body.contains("tessera_"), "{subgraph}");
    }
}
