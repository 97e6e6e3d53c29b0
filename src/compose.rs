//! `tessera compose`: exports each subgraph's federation SDL to schema/. Composing the
//! supergraph from them arrives with the router issue.

use std::path::Path;

use crate::SUBGRAPHS;

/// The fresh SDL of every subgraph, as (file name, content).
pub fn subgraph_sdls() -> Vec<(String, String)> {
    SUBGRAPHS.iter().map(|s| (format!("{}.graphql", s.name), (s.sdl)())).collect()
}

pub fn run(out: &Path, check: bool) -> anyhow::Result<()> {
    let mut drifted = Vec::new();
    for (file, sdl) in subgraph_sdls() {
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
            "these files differ from a fresh export: {}. Run `cargo run -- compose` and commit them.",
            drifted.join(", ")
        );
    }
    Ok(())
}
