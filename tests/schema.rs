//! The committed SDL in schema/ is what the subgraphs export now. A change to a schema shows up
//! in review as a change to these files.

use std::collections::BTreeSet;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use hive_router_query_planner::state::supergraph_state::{SupergraphDefinition, SupergraphState};
use tessera::compose::{all_files, subgraph_sdls, supergraph};
use tessera_kit::config::Config;

#[test]
fn committed_schema_files_match_a_fresh_composition() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    for (file, fresh) in all_files(&Config::default()).expect("composes") {
        let committed = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
        assert!(
            committed == fresh,
            "schema/{file} differs from the subgraph's SDL. If the change is intended, run `cargo run -- compose` and commit the result.\n--- fresh export ---\n{fresh}"
        );
    }
}

#[test]
fn authenticated_fields_keep_their_directive_in_the_exported_sdl() {
    let sdls = subgraph_sdls();
    let users = &sdls.iter().find(|(f, _)| f == "users.graphql").expect("users SDL").1;
    assert!(users.contains("\"@authenticated\""), "the @link imports @authenticated:\n{users}");
    assert!(users.contains("me: User! @authenticated"), "{users}");
    let notifications = &sdls.iter().find(|(f, _)| f == "notifications.graphql").expect("notifications SDL").1;
    assert!(notifications.contains("notificationAdded: Notification! @authenticated"), "{notifications}");
}

/// (type, field, directive) for every field marked `@authenticated` or `@requiresScopes` in a
/// subgraph SDL, or whose type is marked.
fn marked_in_subgraphs() -> BTreeSet<(String, String, String)> {
    let mut marks = BTreeSet::new();
    for (file, sdl) in subgraph_sdls() {
        let doc = async_graphql::parser::parse_schema(&sdl).unwrap_or_else(|e| panic!("{file} parses: {e}"));
        for def in doc.definitions {
            let TypeSystemDefinition::Type(ty) = def else { continue };
            let ty = ty.node;
            let type_marks: Vec<String> = ty.directives.iter().map(|d| d.node.name.node.to_string()).collect();
            let TypeKind::Object(object) = ty.kind else { continue };
            for field in object.fields {
                let field = field.node;
                for directive in field.directives.iter().map(|d| d.node.name.node.to_string()).chain(type_marks.clone())
                {
                    if directive == "authenticated" || directive == "requiresScopes" {
                        marks.insert((ty.name.node.to_string(), field.name.node.to_string(), directive));
                    }
                }
            }
        }
    }
    marks
}

#[test]
fn every_authorization_mark_in_a_subgraph_survives_into_the_planners_view() {
    let marks = marked_in_subgraphs();
    assert!(marks.len() >= 4, "the subgraphs mark fields; found {marks:?}");
    let sdl = supergraph(&Config::default()).expect("composes");
    let state = SupergraphState::new(&hive_router_query_planner::utils::parsing::parse_schema(&sdl));
    for (ty, field, directive) in &marks {
        let Some(SupergraphDefinition::Object(object)) = state.definitions.get(ty) else {
            panic!("type {ty} is missing from the planner's view");
        };
        let f = object.fields.get(field).unwrap_or_else(|| panic!("{ty}.{field} is missing from the planner's view"));
        let kept = match directive.as_str() {
            "authenticated" => !f.authenticated.is_empty() || !object.authenticated.is_empty(),
            _ => !f.requires_scopes.is_empty() || !object.requires_scopes.is_empty(),
        };
        assert!(kept, "{ty}.{field} lost @{directive} on its way to the planner");
    }
}

#[test]
fn without_the_fix_up_the_planner_would_drop_the_marks() {
    // Guards the guard: if the planner started honouring the directives without the links,
    // this fails and the fix-up can be simplified.
    let sdl = supergraph(&Config::default()).expect("composes");
    let unlinked: String = sdl
        .lines()
        .filter(|l| !l.contains("specs.apollo.dev/authenticated") && !l.contains("specs.apollo.dev/requiresScopes"))
        .collect::<Vec<_>>()
        .join("\n");
    let state = SupergraphState::new(&hive_router_query_planner::utils::parsing::parse_schema(&unlinked));
    let Some(SupergraphDefinition::Object(query)) = state.definitions.get("Query") else { panic!("Query exists") };
    assert!(query.fields["me"].authenticated.is_empty());
}
