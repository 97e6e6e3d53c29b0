//! The auth subgraph's resolvers.

mod user;

use async_graphql::{Context, ID, Object, SimpleObject};
use tessera_kit::identity::{RequireScopes, viewer};

use crate::State;
pub use user::User;

pub struct Query;

/// The verdict on an access token.
#[derive(SimpleObject)]
pub struct TokenValidation {
    pub valid: bool,
    /// Why the token was refused, when it was.
    pub reason: Option<String>,
    /// The user the token was issued to, when valid.
    pub user_id: Option<ID>,
    pub scopes: Vec<String>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[Object]
impl Query {
    /// Checks an access token the way the router and subgraphs do: signature, algorithm,
    /// issuer, audience and expiry.
    async fn validate_token(&self, ctx: &Context<'_>, token: String) -> TokenValidation {
        let state = ctx.data_unchecked::<State>();
        match state.rt.verifier.verify(&token).await {
            Ok(claims) => TokenValidation {
                valid: true,
                reason: None,
                user_id: Some(ID(claims.sub.to_string())),
                scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
                expires_at: chrono::DateTime::from_timestamp(claims.exp, 0),
            },
            Err(e) => TokenValidation {
                valid: false,
                reason: Some(e.to_string()),
                user_id: None,
                scopes: vec![],
                expires_at: None,
            },
        }
    }

    /// The ids (`kid`) of the signing keys the JWKS publishes, newest first. Admins only.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn signing_key_ids(&self, ctx: &Context<'_>) -> Vec<String> {
        ctx.data_unchecked::<State>().keys.kids()
    }

    /// Whether the caller is signed in (the token they sent, if any, was valid).
    async fn signed_in(&self, ctx: &Context<'_>) -> bool {
        viewer(ctx).claims().is_some()
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        User::load(ctx.data_unchecked::<State>(), &id).await
    }
}
