//! The committed SDL in schema/ is what the subgraphs export now. A change to a schema shows up
//! in review as a change to these files.

use tessera::compose::subgraph_sdls;

#[test]
fn committed_subgraph_sdl_matches_a_fresh_export() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    for (file, fresh) in subgraph_sdls() {
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
