//! A federation scenario folder (`subgraphs/<name>.graphql`, `data/<name>.json`) served by
//! fixture subgraphs on 127.0.0.1 and composed into a supergraph whose `@join__graph` URLs point
//! at them: what a router is then given with no other configuration.

use std::path::{Path, PathBuf};

use tessera_router::compose::{SubgraphSdl, compose};

use crate::fixture::{MutationLog, spawn_fixture_logged};

/// The files of `dir` ending in `.ext`, sorted by name.
pub fn sorted(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == ext)).collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

pub fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).expect("a file name").to_owned()
}

/// Starts the scenario's subgraphs and returns the composed supergraph SDL.
pub async fn serve_scenario(scenario: &Path) -> anyhow::Result<String> {
    let mut sdls = Vec::new();
    let log = MutationLog::default();
    for file in sorted(&scenario.join("subgraphs"), "graphql") {
        let name = stem(&file);
        let sdl = std::fs::read_to_string(&file)?;
        let data = std::fs::read_to_string(scenario.join("data").join(format!("{name}.json"))).unwrap_or("{}".into());
        let data: serde_json::Value =
            serde_json::from_str(&data).map_err(|e| anyhow::anyhow!("{}: {name}.json: {e}", scenario.display()))?;
        let url = spawn_fixture_logged(&sdl, data, log.clone()).await?;
        sdls.push(SubgraphSdl { name, url, sdl });
    }
    compose(&sdls).map_err(|e| anyhow::anyhow!("{}: {e}", scenario.display()))
}
