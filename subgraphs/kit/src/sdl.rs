//! Exporting a subgraph's federation SDL.
//!
//! async-graphql imports `@requiresScopes` into the federation `@link` but not `@authenticated`.
//! Left alone, `@authenticated` would compose as a custom directive and the router would not
//! enforce it. So we add it to the import list and drop the local definition that async-graphql
//! writes for our [`crate::identity::authenticated`] type directive.

use async_graphql::{ObjectType, SDLExportOptions, Schema, SubscriptionType};

pub fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    patch_authenticated(&schema.sdl_with_options(SDLExportOptions::new().federation()))
}

/// Imports `@authenticated` into the federation `@link` and drops its local definition. Also for
/// SDL fetched from a running subgraph's `_service { sdl }`, which async-graphql writes unpatched.
pub fn patch_authenticated(sdl: &str) -> String {
    sdl.lines()
        .filter(|line| !line.trim_start().starts_with("directive @authenticated"))
        .map(|line| {
            if line.trim_start().starts_with("import: [") && !line.contains("\"@authenticated\"") {
                line.replacen("import: [", "import: [\"@authenticated\", ", 1)
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object};

    use super::*;
    use crate::identity::{Authenticated, authenticated};

    struct Query;

    #[Object]
    impl Query {
        #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
        async fn secret(&self) -> i32 {
            1
        }

        #[graphql(requires_scopes = "admin")]
        async fn admin_only(&self) -> i32 {
            2
        }
    }

    #[test]
    fn exported_sdl_imports_authenticated_from_the_federation_spec() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
        let sdl = federation_sdl(&schema);
        assert!(sdl.contains("import: [\"@authenticated\", \"@key\""), "{sdl}");
        assert!(!sdl.contains("directive @authenticated"), "{sdl}");
        assert!(sdl.contains("secret: Int! @authenticated"), "{sdl}");
        assert!(sdl.contains("adminOnly: Int! @requiresScopes(scopes: [[\"admin\"]])"), "{sdl}");
    }
}
