//! Composing subgraph SDLs into the supergraph the planner reads.
//!
//! graphql-composition does the composition. Its output needs a fix-up before
//! hive-router-query-planner accepts it (DESIGN.md, Composition): root types get `@join__type`
//! for every subgraph that contributes fields to them, and `@link`s for the authenticated and
//! requiresScopes specs are added, so the planner's view keeps both directives.

/// One subgraph's input to composition.
#[derive(Debug, Clone)]
pub struct SubgraphSdl {
    pub name: String,
    pub url: String,
    pub sdl: String,
}

/// Why composition failed; each message names the subgraph where it can.
#[derive(Debug, thiserror::Error)]
#[error("composition failed:\n{}", .0.join("\n"))]
pub struct CompositionError(pub Vec<String>);

mod fix_up;
mod live;

pub use fix_up::fix_up;
pub use live::from_live;

/// Composes `subgraphs` into a supergraph SDL the planner accepts.
///
/// graphql-composition panics on some invalid inputs (a field of an undefined type) instead of
/// reporting them. The panic is contained here, and each subgraph is then composed alone to name
/// the one at fault.
pub fn compose(subgraphs: &[SubgraphSdl]) -> Result<String, CompositionError> {
    let attempt = |subgraphs: &[SubgraphSdl]| std::panic::catch_unwind(|| compose_unguarded(subgraphs));
    match attempt(subgraphs) {
        Ok(result) => result,
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("composition aborted")
                .to_owned();
            let culprits: Vec<String> = subgraphs
                .iter()
                .filter(|s| attempt(std::slice::from_ref(s)).is_err())
                .map(|s| format!("subgraph `{}`: {reason}", s.name))
                .collect();
            Err(CompositionError(if culprits.is_empty() { vec![reason] } else { culprits }))
        }
    }
}

fn compose_unguarded(subgraphs: &[SubgraphSdl]) -> Result<String, CompositionError> {
    let mut input = graphql_composition::Subgraphs::default();
    // Ingest in name order: the output then does not depend on who listed the subgraphs how.
    let mut sorted: Vec<&SubgraphSdl> = subgraphs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for s in sorted {
        input
            .ingest_str(&s.sdl, &s.name, Some(&s.url))
            .map_err(|e| CompositionError(vec![format!("subgraph `{}`: {e}", s.name)]))?;
    }
    let graph = graphql_composition::compose(&mut input)
        .into_result()
        .map_err(|d| CompositionError(d.iter_messages().map(str::to_owned).collect()))?;
    let sdl = graphql_composition::render_federated_sdl(&graph)
        .map_err(|e| CompositionError(vec![format!("rendering the supergraph: {e}")]))?;
    Ok(fix_up(&sdl))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdl(name: &str, body: &str) -> SubgraphSdl {
        SubgraphSdl { name: name.into(), url: format!("http://127.0.0.1:1/{name}"), sdl: body.into() }
    }

    const HEADER: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\", \"@authenticated\", \"@requiresScopes\"])\n";

    #[test]
    fn root_types_get_a_join_type_per_owning_subgraph_and_auth_specs_are_linked() {
        let out = compose(&[
            sdl(
                "a",
                &format!(
                    "{HEADER}type Query {{ me: User @authenticated }}\ntype User @key(fields: \"id\") {{ id: ID! }}"
                ),
            ),
            sdl("b", &format!("{HEADER}type Query {{ admin: Int @requiresScopes(scopes: [[\"admin\"]]) }}")),
        ])
        .expect("composes");
        assert!(out.contains("type Query\n  @join__type(graph: A)\n  @join__type(graph: B)\n{"), "{out}");
        assert!(out.contains("https://specs.apollo.dev/authenticated/v0.1"), "{out}");
        assert!(out.contains("https://specs.apollo.dev/requiresScopes/v0.1"), "{out}");
        assert!(out.contains("directive @authenticated on"), "{out}");
        assert_eq!(fix_up(&out), out, "the fix-up is idempotent");
    }

    #[test]
    fn a_composition_error_names_the_subgraph() {
        let good = sdl("good", &format!("{HEADER}type Query {{ ok: Int }}"));
        let err = compose(&[good, sdl("broken", "type Query { x: Nope }")]).expect_err("an unknown type fails");
        let msg = err.to_string();
        assert!(msg.contains("subgraph `broken`") && msg.contains("Nope"), "{msg}");
    }
}
