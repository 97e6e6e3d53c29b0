//! A supergraph reloaded from its file brings its own subgraph URLs: a subgraph that moved is
//! reached where the new supergraph says, and one it adds is reached at all, with no restart.

use serde_json::json;
use tessera_router::compose::{SubgraphSdl, compose};
use tessera_testkit::{eventually, fixture::spawn_fixture, graphql};

const GREETINGS: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { greeting: String }"#;
const EXTRAS: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { extra: Int }"#;

fn subgraph(name: &str, url: String, sdl: &str) -> SubgraphSdl {
    SubgraphSdl { name: name.into(), url, sdl: sdl.into() }
}

#[tokio::test]
async fn a_reloaded_supergraph_reaches_a_moved_subgraph_and_an_added_one_at_their_new_urls() {
    let first = spawn_fixture(GREETINGS, json!({ "Query": { "greeting": "from the first" } })).await.expect("starts");
    let moved = spawn_fixture(GREETINGS, json!({ "Query": { "greeting": "from the second" } })).await.expect("starts");
    let added = spawn_fixture(EXTRAS, json!({ "Query": { "extra": 7 } })).await.expect("starts");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("supergraph.graphql");
    std::fs::write(&path, compose(&[subgraph("greetings", first, GREETINGS)]).expect("composes")).expect("writes");

    let mut config = tessera_kit::config::Config::default();
    config.router.supergraph_path = Some(path.clone());
    config.router.supergraph_poll_ms = 50;
    config.router.rate_limit.per_ip.per_second = 0.0;
    let app = tessera_router::build(&config, tessera_router::Subgraphs::default(), None).await.expect("starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("http://{}/graphql", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (_, body) = graphql(&url, "{ greeting }", None).await;
    assert_eq!(body, json!({ "data": { "greeting": "from the first" } }));

    let next =
        compose(&[subgraph("greetings", moved, GREETINGS), subgraph("extras", added, EXTRAS)]).expect("composes");
    std::fs::write(&path, next).expect("writes");
    let expected = json!({ "data": { "greeting": "from the second", "extra": 7 } });
    eventually("the reloaded supergraph answers from its own URLs", || {
        let (url, expected) = (url.clone(), expected.clone());
        async move { graphql(&url, "{ greeting extra }", None).await.1 == expected }
    })
    .await;
}
