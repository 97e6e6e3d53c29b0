//! Token introspection: `validateToken`, `signingKeyIds`, `signedIn`.

use async_graphql::{Context, ID, Object, SimpleObject};
use tessera_kit::identity::{RequireScopes, viewer};

use super::state;

#[derive(Default)]
pub struct TokenQuery;

/// The verdict on an access token.
#[derive(SimpleObject)]
pub struct TokenValidation {
    pub valid: bool,
    /// Why the token was refused, when it was.
    pub reason: Option<String>,
    /// The user the token was issued to, when valid.
    pub user_id: Option<ID>,
    /// The session the token belongs to, when valid.
    pub session_id: Option<ID>,
    pub scopes: Vec<String>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[Object]
impl TokenQuery {
    /// Checks an access token the way the router and subgraphs do: signature, algorithm,
    /// issuer, audience and expiry. A token of a revoked session is refused too.
    async fn validate_token(&self, ctx: &Context<'_>, token: String) -> async_graphql::Result<TokenValidation> {
        let state = state(ctx);
        let refused = |reason: String| TokenValidation {
            valid: false,
            reason: Some(reason),
            user_id: None,
            session_id: None,
            scopes: vec![],
            expires_at: None,
        };
        let claims = match state.rt.verifier.verify(&token).await {
            Ok(claims) => claims,
            Err(e) => return Ok(refused(e.to_string())),
        };
        let session =
            crate::store::sessions::get(&state.rt.db, claims.sid).await.map_err(tessera_kit::ApiError::from)?;
        if session.is_some_and(|s| s.revoked_at.is_some()) {
            return Ok(refused("The session of this token has been signed out.".into()));
        }
        Ok(TokenValidation {
            valid: true,
            reason: None,
            user_id: Some(ID(claims.sub.to_string())),
            session_id: Some(ID(claims.sid.to_string())),
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            expires_at: chrono::DateTime::from_timestamp(claims.exp, 0),
        })
    }

    /// The ids (`kid`) of the published signing keys, the signing one first. Admins only.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn signing_key_ids(&self, ctx: &Context<'_>) -> Vec<String> {
        state(ctx).keys.kids()
    }

    /// Whether the caller is signed in (the token they sent, if any, was valid).
    async fn signed_in(&self, ctx: &Context<'_>) -> bool {
        viewer(ctx).claims().is_some()
    }
}
