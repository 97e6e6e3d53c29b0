//! `tessera compose`: exports each subgraph's federation SDL to schema/ and composes them into
//! schema/supergraph.graphql (with the fix-up the planner needs; see `tessera_router::compose`).

use std::path::Path;

use tessera_kit::config::Config;
use tessera_router::compose::{SubgraphSdl, compose};

use crate::SUBGRAPHS;

/// The fresh SDL of every subgraph, as (file name, content).
pub fn subgraph_sdls() -> Vec<(String, String)> {
    SUBGRAPHS.iter().map(|s| (format!("{}.graphql", s.name), (s.sdl)())).collect()
}

/// The supergraph composed from the fresh subgraph SDLs, with each subgraph's URL from `config`.
pub fn supergraph(config: &Config) -> anyhow::Result<String> {
    let subgraphs: Vec<SubgraphSdl> = SUBGRAPHS
        .iter()
        .map(|s| SubgraphSdl {
            name: s.name.to_owned(),
            url: crate::launch::subgraph_url(config, s.name).join("graphql").expect("a path joins").to_string(),
            sdl: (s.sdl)(),
        })
        .collect();
    Ok(compose(&subgraphs)?)
}

/// Every file `compose` writes, as (file name, content).
pub fn all_files(config: &Config) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = subgraph_sdls();
    files.push(("supergraph.graphql".to_owned(), supergraph(config)?));
    Ok(files)
}

pub fn run(config: &Config, out: &Path, check: bool) -> anyhow::Result<()> {
    let mut drifted = Vec::new();
    for (file, sdl) in all_files(config)? {
        let path = out.join(&file);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == sdl {
            continue;
        }
        if check {
            drifted.push(path.display().to_string());
        } else {
            std::fs::create_dir_all(out)?;
            std::fs::write(&path, &sdl)?;
            println!("wrote {}", path.display());
        }
    }
    if !drifted.is_empty() {
        anyhow::bail!(
            "these files differ from a fresh composition: {}. Run `cargo run -- compose` and commit them.",
            drifted.join(", ")
        );
    }
    Ok(())
}
