//! Batched requests (a JSON array body, as Apollo Client's `BatchHttpLink` sends them): each
//! operation answered in order in an array, mutations run one after another, every operation
//! charged against the rate limits, and the batch bounded.

mod common;

use common::{LOGIN, PASSWORD};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_kit::config::BucketConfig;
use tessera_testkit::{TestStack, spawn_configured, spawn_stack, test_bus};

async fn batch(stack: &TestStack, body: Value, accept: &str) -> (u16, String, Value) {
    let res = reqwest::Client::new()
        .post(stack.router_url("/graphql"))
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .expect("answers");
    let status = res.status().as_u16();
    let content_type = res.headers()["content-type"].to_str().expect("ASCII").to_owned();
    (status, content_type, res.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_batch_answers_every_operation_in_order_each_with_its_own_errors() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let body = json!([
        { "query": "{ signedIn }" },
        { "query": "{ nope }" },
        { "query": "query Named { __typename }", "operationName": "Named" },
        { "query": "subscription { notificationAdded { id } }" },
        { "variables": "not an object" },
    ]);
    let (status, content_type, answers) = batch(&stack, body, "application/json").await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let answers = answers.as_array().expect("an array");
    assert_eq!(answers.len(), 5);
    assert_eq!(answers[0], json!({ "data": { "signedIn": false } }));
    assert_eq!(answers[1]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(answers[2], json!({ "data": { "__typename": "Query" } }));
    assert_eq!(answers[3]["errors"][0]["extensions"]["code"], "SUBSCRIPTION_NEEDS_WEBSOCKET", "no stream in a batch");
    assert_eq!(answers[4]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{}", answers[4]);
}

#[tokio::test]
async fn mutations_in_a_batch_run_in_order() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let register = "mutation($i: RegisterInput!) { register(input: $i) { user { username } } }";
    let input = json!({ "email": "ada@example.com", "username": "ada", "password": PASSWORD });
    let body = json!([
        { "query": register, "variables": { "i": input } },
        { "query": LOGIN, "variables": { "i": { "identifier": "ada", "password": PASSWORD } } },
    ]);
    let (_, _, answers) = batch(&stack, body, "application/json").await;
    assert_eq!(answers[0]["data"]["register"]["user"]["username"], "ada", "{answers}");
    assert!(answers[1]["data"]["login"]["accessToken"].is_string(), "the login ran after the sign-up: {answers}");
}

#[tokio::test]
async fn every_operation_of_a_batch_counts_against_the_rate_limit() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        c.router.rate_limit.per_ip = BucketConfig { capacity: 3.0, per_second: 0.1 };
    })
    .await;
    let body = json!([{ "query": "{ signedIn }" }, { "query": "{ signedIn }" }, { "query": "{ signedIn }" }, { "query": "{ signedIn }" }, { "query": "{ signedIn }" }]);
    let (_, _, answers) = batch(&stack, body, "application/json").await;
    let codes: Vec<&Value> =
        answers.as_array().expect("an array").iter().map(|a| &a["errors"][0]["extensions"]["code"]).collect();
    assert_eq!(codes, [&Value::Null, &Value::Null, &Value::Null, &json!("RATE_LIMITED"), &json!("RATE_LIMITED")]);
}

#[tokio::test]
async fn a_batch_over_the_limit_or_empty_is_refused_whole_in_the_clients_media_type() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.limits.max_batch_size = 2).await;
    let three = json!([{ "query": "{ signedIn }" }, { "query": "{ signedIn }" }, { "query": "{ signedIn }" }]);
    let (status, content_type, body) = batch(&stack, three, "application/graphql-response+json").await;
    assert_eq!(status, 400);
    assert!(content_type.starts_with("application/graphql-response+json"), "{content_type}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BATCH_SIZE_EXCEEDED");
    assert_eq!(body["errors"][0]["message"], "The batch holds 3 requests; the limit is 2. Send it in smaller batches.");
    let (status, _, body) = batch(&stack, json!([]), "application/json").await;
    assert_eq!((status, &body["errors"][0]["extensions"]["code"]), (400, &json!("BATCH_SIZE_EXCEEDED")));
}
