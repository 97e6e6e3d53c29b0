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

const AUTH_LINKS: [&str; 2] = [
    r#"  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)"#,
    r#"  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
];

const AUTH_DEFINITIONS: &str = "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

scalar requiresScopes__Scope
";

const ROOT_TYPES: [&str; 3] = ["type Query", "type Mutation", "type Subscription"];

/// The two changes graphql-composition's output needs for the planner:
/// - without `@link`s to the authenticated and requiresScopes specs the planner ignores those
///   directives, so protected fields would plan like public ones;
/// - without `@join__type` on the root types the planner cannot tell which subgraphs serve them.
pub fn fix_up(sdl: &str) -> String {
    let lines: Vec<&str> = sdl.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 16);
    let mut in_schema = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line == "schema" {
            in_schema = true;
        }
        if in_schema && line == "{" {
            for link in AUTH_LINKS {
                if !sdl.contains(link.trim()) {
                    out.push(link.to_owned());
                }
            }
            in_schema = false;
        }
        if ROOT_TYPES.contains(&line) {
            out.push(line.to_owned());
            let body_end = lines[i..].iter().position(|l| *l == "}").map_or(lines.len(), |p| i + p);
            for graph in graphs_of(&lines[i..body_end]) {
                if !lines[i..body_end].iter().any(|l| l.contains(&format!("@join__type(graph: {graph}"))) {
                    out.push(format!("  @join__type(graph: {graph})"));
                }
            }
            i += 1;
            continue;
        }
        out.push(line.to_owned());
        i += 1;
    }
    let mut fixed = out.join("\n");
    if !sdl.contains("directive @authenticated") {
        // After the schema block's closing brace, with the other directive definitions.
        if let Some(pos) = fixed.find("\n}\n") {
            fixed.insert_str(pos + 3, &format!("\n{AUTH_DEFINITIONS}"));
        }
    }
    fixed + "\n"
}

/// The graphs named by `@join__field(graph: X)` in a type body, sorted (a stable file).
fn graphs_of(body: &[&str]) -> Vec<String> {
    let mut graphs: Vec<String> = Vec::new();
    for line in body {
        let mut rest = *line;
        while let Some(at) = rest.find("@join__field(graph: ") {
            rest = &rest[at + "@join__field(graph: ".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && !graphs.contains(&name) {
                graphs.push(name);
            }
        }
    }
    graphs.sort();
    graphs
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

/// Composes from the running subgraphs: asks each for `_service { sdl }` (what `tessera dev`
/// does at start, so the graph is always the code that runs).
pub async fn from_live(subgraphs: &crate::Subgraphs) -> anyhow::Result<String> {
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?;
    let mut sdls = Vec::new();
    for name in subgraphs.0.keys() {
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
