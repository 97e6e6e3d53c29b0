//! Access tokens: EdDSA (Ed25519) JWTs with a `kid` header (DESIGN.md, Tokens).
//! [`sign`] is for the auth subgraph (and tests); everyone else only verifies, against the JWKS.

pub mod revocations;
mod sign;
mod verify;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use revocations::{Revocations, Revoked, TokenRef};
pub use sign::{SigningKey, jwks_document};
pub use verify::{JWKS_FETCHES, JwtVerifier, TokenError};

/// The claims of a Tessera access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session id: revoking the session revokes every token it issued.
    pub sid: Uuid,
    pub roles: Vec<String>,
    /// Space-separated scopes. Roles appear here too, which is what `@requiresScopes` checks.
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: Uuid,
    /// Set only on a service's token (OAuth 2.0 client credentials, RFC 9068 §2.2): the client
    /// that asked for it. Such a token acts for no user: the kit's guards let it through only
    /// where a field asks for a `service:*` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The audience of service tokens meant for `subgraph`: a user token's audience can never be
/// one, so the router (which accepts only `audience`) refuses every service token.
pub fn service_audience(audience: &str, subgraph: &str) -> String {
    format!("{audience}:{subgraph}")
}

impl Claims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split_whitespace().any(|s| s == scope)
    }
}
