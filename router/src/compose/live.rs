//! Composition from running subgraphs.

use super::{SubgraphSdl, compose};

/// Composes from the running subgraphs: asks each for `_service { sdl }` (what `tessera dev`
/// does at start, so the graph is always the code that runs).
pub async fn from_live(subgraphs: &crate::Subgraphs) -> anyhow::Result<String> {
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?;
    let mut sdls = Vec::new();
    for name in subgraphs.names() {
        let url = subgraphs.graphql_url(name).expect("the name is in the map");
        let body: serde_json::Value = http
            .post(url.clone())
            .json(&serde_json::json!({ "query": "{ _service { sdl } }" }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| anyhow::anyhow!("subgraph `{name}` at {url} did not answer `_service {{ sdl }}`: {e}"))?
            .json()
            .await?;
        let sdl = body
            .pointer("/data/_service/sdl")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("subgraph `{name}` answered `_service` without an SDL"))?;
        // async-graphql serves `_service` without importing `@authenticated`: patch it as the
        // kit's export does, or the marks would not survive composition.
        let sdl = tessera_kit::sdl::patch_authenticated(sdl);
        sdls.push(SubgraphSdl { name: name.clone(), url: url.to_string(), sdl });
    }
    Ok(compose(&sdls)?)
}
