//! GraphiQL is served by the router itself, from embedded assets.

use tessera::SUBGRAPHS;
use tessera_testkit::spawn_stack;

#[tokio::test]
async fn a_browser_gets_graphiql_on_the_root_and_on_graphql_and_its_assets_are_embedded() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let http = reqwest::Client::new();
    for path in ["/", "/graphql"] {
        let res = http.get(stack.router_url(path)).header("accept", "text/html,*/*").send().await.expect("answers");
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().expect("ASCII").starts_with("text/html"));
        let page = res.text().await.expect("text");
        assert!(page.contains("/graphiql/graphiql.js") && page.contains("/graphiql/graphiql.css"), "{page}");
        assert!(!page.contains("cdn") && !page.contains("unpkg") && !page.contains("jsdelivr"), "no CDN: {page}");
    }
    for file in
        ["graphiql.js", "graphiql.css", "editor.worker.js", "json.worker.js", "graphql.worker.js", "codicon.ttf"]
    {
        let res = http.get(stack.router_url(&format!("/graphiql/{file}"))).send().await.expect("answers");
        assert_eq!(res.status(), 200, "{file}");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{file}");
        let bytes = res.bytes().await.expect("bytes");
        assert!(bytes.len() > 1000 && bytes[..2] == [0x1f, 0x8b], "{file} is a real gzip body");
    }
    let missing = http.get(stack.router_url("/graphiql/nope.js")).send().await.expect("answers");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn graphiqls_untouched_example_header_means_anonymous() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let res = reqwest::Client::new()
        .post(stack.router_url("/graphql"))
        .header("authorization", "Bearer ")
        .json(&serde_json::json!({ "query": "{ signedIn }" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("JSON"),
        serde_json::json!({ "data": { "signedIn": false } })
    );
}
