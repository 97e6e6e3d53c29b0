//! `serve-scenario <folder> <supergraph-file>`: serves a federation scenario's subgraphs on
//! 127.0.0.1 and writes their supergraph, for a router started separately (`tessera serve
//! router --supergraph <supergraph-file>`), as `.ci/run` does for the Node client suites. Runs
//! until it is killed.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(folder), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: serve-scenario <folder> <supergraph-file>");
    };
    let supergraph = tessera_testkit::scenario::serve_scenario(std::path::Path::new(&folder)).await?;
    // Written whole, then renamed: a reader never sees half a supergraph.
    let partial = format!("{out}.partial");
    std::fs::write(&partial, supergraph)?;
    std::fs::rename(&partial, &out)?;
    println!("serving {folder}; supergraph in {out}");
    std::future::pending::<()>().await;
    Ok(())
}
