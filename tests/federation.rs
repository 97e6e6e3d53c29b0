//! The federation scenario corpus (`tests/federation/<scenario>/`, see its README): each
//! scenario's subgraphs are served by the data-driven fixture, composed into a supergraph the
//! router has never seen, and every query's response is compared with its snapshot. Adding a
//! scenario is adding a folder.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tessera_testkit::{
    graphql_with,
    incremental::{DEFER_20220824, INCREMENTAL_V02, applied, deferred},
    scenario::{serve_scenario, sorted, stem},
};

/// Starts the scenario's subgraphs and a router over their composition; returns its endpoint and
/// the directory holding the supergraph file (removed when dropped).
async fn start(scenario: &Path) -> (String, tempfile::TempDir) {
    let supergraph = serve_scenario(scenario).await.unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("supergraph.graphql");
    std::fs::write(&path, supergraph).expect("writes");
    let mut config = tessera_kit::config::Config::default();
    config.router.supergraph_path = Some(path);
    config.router.rate_limit.per_ip.per_second = 0.0;
    let app = tessera_router::build(&config, tessera_router::Subgraphs::default(), None).await.expect("starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/graphql"), dir)
}

/// A deferred query, asked in both incremental formats: whatever the payloads, applying them
/// must end with the data the query answers undeferred. The snapshot holds all three.
async fn deferred_both_ways(url: &str, query: &str, variables: Value, whole: Value) -> Value {
    let mut out = json!({ "whole": whole });
    for (name, accept) in [("deferSpec=20220824", DEFER_20220824), ("incrementalSpec=v0.2", INCREMENTAL_V02)] {
        let (content_type, payloads) = deferred(url, query, variables.clone(), accept).await;
        let result = applied(&payloads);
        assert_eq!(result["data"], whole["data"], "{name} ends with the undeferred data\n{payloads:#?}");
        out[name] = json!({ "contentType": content_type, "payloads": payloads });
    }
    out
}

#[tokio::test]
async fn every_federation_scenario_answers_as_the_spec_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    let mut queries = 0;
    for scenario in &scenarios {
        let (url, _supergraph) = start(scenario).await;
        let name = stem(scenario);
        for query in sorted(&scenario.join("queries"), "graphql") {
            let text = std::fs::read_to_string(&query).expect("reads the query");
            let variables = std::fs::read_to_string(query.with_extension("json"))
                .map(|v| serde_json::from_str(&v).expect("the variables are JSON"))
                .unwrap_or(json!({}));
            let (_, whole) = graphql_with(&url, &text, variables.clone(), None).await;
            let body =
                if text.contains("@defer") { deferred_both_ways(&url, &text, variables, whole).await } else { whole };
            insta::with_settings!({ snapshot_path => format!("federation/{name}/snapshots"), prepend_module_to_snapshot => false, input_file => &query }, {
                insta::assert_json_snapshot!(stem(&query), body);
            });
            queries += 1;
        }
    }
    assert!(queries > 0, "the corpus is empty");
}

/// The gateway benchmark's workload (`bench/gateway`): a 90 KB answer nested five entity hops
/// deep. Its bytes were recorded from the executor before it moved off `serde_json::Value`
/// (docs/performance.md); any later change to merging, projection or serialization that alters
/// one byte (field order, number formatting, escaping) fails here.
#[tokio::test]
async fn a_large_nested_answer_is_byte_for_byte_what_the_router_answered_before_the_executor_rewrite() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gateway");
    let (url, _supergraph) = start(&bench).await;
    let query = std::fs::read_to_string(bench.join("queries/benchmark.graphql")).expect("the query");
    let expected = std::fs::read_to_string(bench.join("expected/benchmark.json")).expect("the recorded answer");
    let answer = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the router answers")
        .text()
        .await
        .expect("a body");
    assert!(answer.len() > 80_000, "the answer is the large one ({} bytes)", answer.len());
    assert!(answer == expected, "the answer differs from the recorded one; first difference at byte {}", {
        answer.bytes().zip(expected.bytes()).position(|(a, b)| a != b).unwrap_or(answer.len().min(expected.len()))
    });
}
