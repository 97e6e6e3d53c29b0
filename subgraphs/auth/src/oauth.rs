//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), by which a
//! service (orders) gets a short-lived token to call another subgraph (products) directly.
//!
//! The token is an EdDSA JWT from the same key ring as user tokens, with `client_id` set
//! (RFC 9068), `scope: service:<client>` and `aud` naming the one subgraph it is for, so the
//! router (which accepts only the user audience) and every other subgraph refuse it. Client
//! secrets are 256 random bits; only their SHA-256 is held here, compared in constant time.

use axum::{
    body::{Body, to_bytes},
    extract::State as AxumState,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;
use subtle::ConstantTimeEq;
use tessera_kit::{
    jwt::{Claims, service_audience},
    service_auth::{self, CLIENTS},
};
use uuid::Uuid;

use crate::State;

/// How long a service token lives, in seconds: long enough for a burst of calls, short enough
/// that a leaked one is soon worthless (there is no session to revoke it by).
pub const TOKEN_SECONDS: i64 = 300;
/// A token request is a few form fields.
const BODY_LIMIT: usize = 8 * 1024;

/// The clients this auth subgraph knows, each with its secret's digest, read once at start.
#[derive(Clone)]
pub struct Clients {
    state: State,
    digests: std::sync::Arc<Vec<(&'static str, [u8; 32])>>,
}

impl Clients {
    pub fn load(state: State) -> anyhow::Result<Self> {
        let digests = CLIENTS
            .iter()
            .map(|(name, _)| Ok((*name, service_auth::secret_digest(&state.rt.config, name)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { state, digests: std::sync::Arc::new(digests) })
    }

    /// Whether `secret` is `client`'s, in time that depends on neither (an unknown client is
    /// compared against a digest too).
    fn authenticate(&self, client: &str, secret: &str) -> Option<&'static str> {
        let presented = service_auth::digest(secret);
        let known = self.digests.iter().find(|(name, _)| *name == client);
        let expected = known.map_or([0u8; 32], |(_, d)| *d);
        let matches: bool = presented.ct_eq(&expected).into();
        known.filter(|_| matches).map(|(name, _)| *name)
    }
}

/// An RFC 6749 §5.2 error.
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn refuse(status: StatusCode, error: &'static str, description: &str) -> OAuthError {
    OAuthError { status, error, description: description.to_owned() }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"tessera\""));
        }
        no_store(response)
    }
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The client id and secret from HTTP Basic (RFC 6749 §2.3.1) or the form, not both.
fn credentials(headers: &HeaderMap, form: &[(String, String)]) -> Result<(String, String), OAuthError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    let bad_client = || refuse(StatusCode::UNAUTHORIZED, "invalid_client", "The client id or secret is wrong.");
    match (basic, field("client_id"), field("client_secret")) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the client's credentials once: in the Authorization header or in the form, not both.",
        )),
        (Some(encoded), None, None) => {
            let decoded = STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok());
            let (id, secret) = decoded.as_deref().and_then(|d| d.split_once(':')).ok_or_else(bad_client)?;
            Ok((id.to_owned(), secret.to_owned()))
        }
        (None, Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(bad_client()),
    }
}

/// The id a client's tokens carry as `sub`: the same for every token of one client.
fn subject(client: &str) -> Uuid {
    let digest = service_auth::digest(&format!("tessera-service:{client}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

pub async fn token(
    AxumState(clients): AxumState<Clients>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, OAuthError> {
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "A token request is at most 8 KiB."));
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only grant_type=client_credentials is served here; users sign in through GraphQL.",
            ));
        }
        None => return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", "Send grant_type=client_credentials.")),
    }
    let (id, secret) = credentials(&headers, &form)?;
    let Some(client) = clients.authenticate(&id, &secret) else {
        tracing::warn!(client = %id.chars().take(64).collect::<String>(), "client credentials refused");
        return Err(refuse(StatusCode::UNAUTHORIZED, "invalid_client", "The client id or secret is wrong."));
    };
    let scope = service_auth::scope(client);
    if field("scope").is_some_and(|asked| asked.split_whitespace().any(|s| s != scope)) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("This client may ask for `{scope}` only."),
        ));
    }
    let targets = service_auth::audiences(client).unwrap_or_default();
    let target = match (field("audience"), targets) {
        (Some(asked), _) if targets.contains(&asked) => asked,
        (None, [only]) => only,
        _ => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "invalid_target",
                &format!("Name the subgraph the token is for in `audience`: this client may call {targets:?}."),
            ));
        }
    };
    let config = &clients.state.rt.config;
    let now = chrono::Utc::now().timestamp();
    let jti = Uuid::now_v7();
    let claims = Claims {
        iss: config.jwt.issuer.clone(),
        aud: service_audience(&config.jwt.audience, target),
        sub: subject(client),
        sid: jti,
        roles: Vec::new(),
        scope: scope.clone(),
        iat: now,
        exp: now + TOKEN_SECONDS,
        nbf: None,
        jti,
        client_id: Some(client.to_owned()),
    };
    tracing::info!(client, audience = target, "service token issued");
    let body = json!({
        "access_token": clients.state.keys.sign(&claims),
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": scope,
    });
    Ok(no_store(axum::Json(body).into_response()))
}
