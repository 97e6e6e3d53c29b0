//! Access tokens: one signed by the auth subgraph's key is accepted everywhere; forged,
//! expired or misaddressed ones are refused with 401 and `UNAUTHENTICATED`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tessera_auth::KeyRing;
use tessera_kit::jwt::{Claims, SigningKey};
use tessera_testkit::{TestStack, claims_for, graphql, spawn_stack};
use uuid::Uuid;

async fn stack() -> (TestStack, KeyRing) {
    let stack = spawn_stack(&[tessera_auth::SPEC, tessera_users::SPEC]).await;
    let keys = KeyRing::open(&stack.subgraph("auth").rt).await.expect("the key ring loads");
    (stack, keys)
}

async fn me(stack: &TestStack, token: &str) -> (u16, serde_json::Value) {
    graphql(&stack.subgraph("users").url("/graphql"), "{ me { id } }", Some(token)).await
}

fn assert_refused(name: &str, (status, body): (u16, serde_json::Value)) {
    assert_eq!(status, 401, "{name}: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{name}: {body}");
    assert!(body.get("data").is_none(), "{name}: nothing may execute: {body}");
}

#[tokio::test]
async fn a_token_signed_by_the_auth_subgraph_is_accepted_by_another_subgraph() {
    let (stack, keys) = stack().await;
    let user = Uuid::now_v7();
    let (status, body) = me(&stack, &keys.sign(&claims_for(user, &["customer"]))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["id"], user.to_string());
}

/// Every way a token can be wrong, each with a name for the failure message.
fn forgeries(keys: &KeyRing) -> Vec<(&'static str, String)> {
    let claims = claims_for(Uuid::now_v7(), &["admin"]);
    let real = keys.current();

    // Signed with a key the JWKS does not publish.
    let unknown_key = SigningKey::generate().sign(&claims);

    // `alg: none`, no signature at all.
    let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let alg_none = format!(
        "{}.{}.",
        b64(serde_json::json!({ "alg": "none", "typ": "JWT", "kid": real.kid })),
        b64(serde_json::to_value(&claims).expect("claims serialize")),
    );

    // The HS256 confusion: an HMAC keyed with the public key, which anyone can read.
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(real.kid.clone());
    let hs256_public =
        jsonwebtoken::encode(&hs_header, &claims, &EncodingKey::from_secret(real.public_key())).expect("HS256 encodes");
    let x = real.public_jwk()["x"].as_str().expect("x").to_owned();
    let hs256_jwk_x =
        jsonwebtoken::encode(&hs_header, &claims, &EncodingKey::from_secret(x.as_bytes())).expect("HS256 encodes");

    let expired = keys.sign(&Claims { exp: chrono::Utc::now().timestamp() - 3600, ..claims.clone() });
    let wrong_audience = keys.sign(&Claims { aud: "someone-else".into(), ..claims.clone() });
    let wrong_issuer = keys.sign(&Claims { iss: "evil".into(), ..claims.clone() });
    let not_yet_valid = keys.sign(&Claims { nbf: Some(chrono::Utc::now().timestamp() + 3600), ..claims.clone() });

    // A valid token with one signature byte flipped.
    let mut tampered = keys.sign(&claims).into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("still ASCII");

    // The real key under a `kid` the JWKS does not list.
    let unknown_kid = SigningKey::from_seed("forged-kid".into(), *real.seed()).sign(&claims);

    vec![
        ("unknown kid", unknown_kid),
        ("unknown key", unknown_key),
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hs256_public),
        ("HS256 keyed with the JWK x", hs256_jwk_x),
        ("expired", expired),
        ("wrong audience", wrong_audience),
        ("wrong issuer", wrong_issuer),
        ("not yet valid", not_yet_valid),
        ("tampered signature", tampered),
        ("garbage", "not-a-jwt".to_owned()),
    ]
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_refused() {
    let (stack, keys) = stack().await;
    for (name, token) in forgeries(&keys) {
        assert_refused(name, me(&stack, &token).await);
    }
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_refused_by_the_router() {
    let stack = tessera_testkit::spawn_stack(&tessera::SUBGRAPHS).await;
    let keys = KeyRing::open(&stack.subgraph("auth").rt).await.expect("the key ring loads");
    for (name, token) in forgeries(&keys) {
        assert_refused(name, graphql(&stack.router_url("/graphql"), "{ me { id } }", Some(&token)).await);
    }
}

#[tokio::test]
async fn no_token_means_anonymous_and_authenticated_fields_say_so() {
    let (stack, _) = stack().await;
    let (status, body) = graphql(&stack.subgraph("users").url("/graphql"), "{ me { id } }", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["path"][0], "me");
}

#[tokio::test]
async fn validate_token_reports_why_a_token_is_refused() {
    let (stack, keys) = stack().await;
    let claims = claims_for(Uuid::now_v7(), &["customer"]);
    let expired = keys.sign(&Claims { exp: chrono::Utc::now().timestamp() - 3600, ..claims.clone() });
    let query = "query($t: String!) { validateToken(token: $t) { valid reason userId scopes } }";
    let url = stack.subgraph("auth").url("/graphql");
    let (_, ok) =
        tessera_testkit::graphql_with(&url, query, serde_json::json!({ "t": keys.sign(&claims) }), None).await;
    assert_eq!(ok["data"]["validateToken"]["valid"], true, "{ok}");
    assert_eq!(ok["data"]["validateToken"]["scopes"], serde_json::json!(["customer"]));
    let (_, bad) = tessera_testkit::graphql_with(&url, query, serde_json::json!({ "t": expired }), None).await;
    assert_eq!(bad["data"]["validateToken"]["valid"], false);
    assert!(bad["data"]["validateToken"]["reason"].as_str().expect("a reason").contains("expired"), "{bad}");
}
