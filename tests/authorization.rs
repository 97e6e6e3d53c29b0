//! `@authenticated` and `@requiresScopes` are enforced by the router before any subgraph is
//! called, and again by the subgraphs for requests that bypass the router.

mod common;

use serde_json::json;
use tessera::SUBGRAPHS;
use tessera_kit::config::AuthorizationMode;
use tessera_testkit::{TestStack, graphql, spawn_configured, spawn_stack, test_bus};
use uuid::Uuid;

async fn token(stack: &TestStack, roles: &[&str]) -> String {
    common::token(stack, Uuid::now_v7(), roles).await
}

fn counts(stack: &TestStack) -> Vec<(&'static str, usize)> {
    stack.subgraphs.iter().map(|s| (s.name, s.request_count())).collect()
}

#[tokio::test]
async fn an_anonymous_caller_gets_null_and_an_error_for_authenticated_fields_and_the_rest_runs() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let before = counts(&stack);
    let query = format!("{{ signedIn order(id: \"{}\") {{ status }} }}", Uuid::now_v7());
    let (status, body) = graphql(&stack.router_url("/graphql"), &query, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!({ "signedIn": false, "order": null }), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["order"]));
    let after = counts(&stack);
    let orders = |c: &[(&str, usize)]| c.iter().find(|(n, _)| *n == "orders").map(|(_, n)| *n);
    assert_eq!(orders(&before), orders(&after), "the orders subgraph was never called");
}

#[tokio::test]
async fn an_authenticated_field_under_a_non_null_root_nulls_the_whole_data() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (_, body) = graphql(&stack.router_url("/graphql"), "{ me { id } }", None).await;
    assert_eq!(body["data"], serde_json::Value::Null, "{body}");
    assert_eq!(body["errors"].as_array().expect("errors").len(), 1, "one error, not a second for the null: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn requires_scopes_lets_admins_in_and_keeps_customers_and_anonymous_out() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let url = stack.router_url("/graphql");
    let query = "{ signedIn signingKeyIds }";

    let (_, anonymous) = graphql(&url, query, None).await;
    assert_eq!(anonymous["data"], serde_json::Value::Null, "{anonymous}");
    assert_eq!(anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let (_, customer) = graphql(&url, query, Some(&token(&stack, &["customer"]).await)).await;
    assert_eq!(customer["data"], serde_json::Value::Null, "{customer}");
    assert_eq!(customer["errors"][0]["path"], json!(["signingKeyIds"]));
    assert_eq!(customer["errors"][0]["extensions"]["code"], "FORBIDDEN", "signed in, but without the role");

    let (_, admin) = graphql(&url, query, Some(&token(&stack, &["admin"]).await)).await;
    let kid = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys").current().kid;
    assert_eq!(admin, json!({ "data": { "signedIn": true, "signingKeyIds": [kid] } }));
}

#[tokio::test]
async fn reject_mode_refuses_the_whole_operation() {
    let stack =
        spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.authorization = AuthorizationMode::Reject).await;
    let before = counts(&stack);
    let (_, body) = graphql(&stack.router_url("/graphql"), "{ signedIn signingKeyIds }", None).await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(before, counts(&stack), "no subgraph was called");
}

#[tokio::test]
async fn a_request_that_bypasses_the_router_is_refused_by_the_subgraph_too() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let direct = stack.subgraph("auth").url("/graphql");
    let (_, body) = graphql(&direct, "{ signingKeyIds }", Some(&token(&stack, &["customer"]).await)).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let (_, body) = graphql(&stack.subgraph("orders").url("/graphql"), "{ myOrders { totalCount } }", None).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn an_invalid_token_is_refused_by_the_router_with_401() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (status, body) = graphql(&stack.router_url("/graphql"), "{ signedIn }", Some("forged.token.value")).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}
