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

/// A service token from the auth subgraph's `POST /oauth/token`, as the orders service gets
/// one (client `orders`, its secret kept in the stack's data directory, for products).
pub async fn service_token(stack: &crate::TestStack) -> String {
    use secrecy::ExposeSecret;
    let auth = stack.subgraph("auth");
    let secret = tessera_kit::service_auth::client_secret(&auth.rt.config, "orders").expect("the kept secret");
    let response = reqwest::Client::new()
        .post(auth.url("/oauth/token"))
        .basic_auth("orders", Some(secret.expose_secret()))
        .form(&[("grant_type", "client_credentials"), ("audience", "products")])
        .send()
        .await
        .expect("auth answers");
    assert_eq!(response.status(), 200, "the token endpoint refused the orders client");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["scope"], "service:orders", "{body}");
    body["access_token"].as_str().expect("a token").to_owned()
}
