//! Claims for tokens that tests sign with the auth subgraph's real key.

use tessera_kit::jwt::Claims;
use uuid::Uuid;

/// Valid claims for `user` with `roles`, expiring in 15 minutes (DESIGN.md's lifetime).
pub fn claims_for(user: Uuid, roles: &[&str]) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "tessera".into(),
        aud: "tessera".into(),
        sub: user,
        sid: Uuid::now_v7(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        scope: roles.join(" "),
        iat: now,
        exp: now + 15 * 60,
        nbf: None,
        jti: Uuid::now_v7(),
        client_id: None,
    }
}
