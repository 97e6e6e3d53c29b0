//! The fix-up graphql-composition's output needs before the planner reads it.

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
