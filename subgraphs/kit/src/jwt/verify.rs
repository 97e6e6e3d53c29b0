//! Verifying access tokens against the auth subgraph's JWKS.
//!
//! Keys are cached. An unknown `kid` triggers a refetch (a key may just have rotated in), but at
//! most once per `refetch_interval`, so forged `kid`s cannot make us hammer the JWKS endpoint.
//! Cached keys are trusted for `keys_ttl` only: then the JWKS is fetched again, so a key that was
//! deleted after a compromise stops verifying everywhere within that time. (If the JWKS cannot
//! be fetched then, the last keys stay in use and the fetch is retried at most every
//! `min(refetch_interval, keys_ttl)`: an outage of the auth subgraph must not sign everyone out.)
//! Only EdDSA is accepted: the algorithm is checked before any key is looked up, which shuts out
//! `alg: none` and the HS256-with-the-public-key confusion.

use std::{
    collections::HashMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind, jwk::JwkSet};

use super::Claims;
use crate::config::JwtConfig;

/// Why a token was refused. Every variant means `UNAUTHENTICATED` to the client; the variants
/// exist for logs and for `validateToken`'s reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The access token is not a well-formed JWT.")]
    Malformed,
    #[error("The access token's signing algorithm is not accepted.")]
    Algorithm,
    #[error("The access token was signed with an unknown key.")]
    UnknownKey,
    #[error("The access token has expired.")]
    Expired,
    #[error("The access token is not valid yet.")]
    NotYetValid,
    #[error("The access token is for another audience.")]
    Audience,
    #[error("The access token is from another issuer.")]
    Issuer,
    #[error("The access token's signature or claims are invalid.")]
    Invalid,
    #[error("The signing keys cannot be fetched right now; try again shortly.")]
    KeysUnavailable,
    #[error("The access token's session has been revoked.")]
    Revoked,
}

pub struct JwtVerifier {
    jwks_url: url::Url,
    validation: Validation,
    refetch_interval: Duration,
    keys_ttl: Duration,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the keys in `keys` were fetched (None: never).
    fetched_at: RwLock<Option<Instant>>,
    /// When a fetch was last attempted, successful or not.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    /// Revoked sessions and users, when this process follows the bus.
    revocations: Option<std::sync::Arc<super::Revocations>>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier").field("jwks_url", &self.jwks_url.as_str()).finish_non_exhaustive()
    }
}

impl JwtVerifier {
    pub fn new(config: &JwtConfig, jwks_url: url::Url) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = config.leeway_seconds;
        Self {
            jwks_url,
            validation,
            refetch_interval: Duration::from_secs(config.refetch_interval_seconds),
            keys_ttl: Duration::from_secs(config.keys_ttl_seconds),
            fetched_at: RwLock::new(None),
            http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("HTTP client builds"),
            keys: RwLock::new(HashMap::new()),
            last_fetch: tokio::sync::Mutex::new(None),
            revocations: None,
        }
    }

    /// Also accepts service tokens meant for `subgraph` (see [`super::service_audience`]), beside
    /// user tokens. Only a subgraph's own verifier does; the router's never does.
    pub fn for_subgraph(mut self, audience: &str, subgraph: &str) -> Self {
        self.validation.set_audience(&[audience.to_owned(), super::service_audience(audience, subgraph)]);
        self
    }

    /// Also refuses tokens that `revocations` names (`TokenError::Revoked`).
    pub fn with_revocations(mut self, revocations: std::sync::Arc<super::Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Verifies signature, algorithm, `iss`, `aud`, `exp` and `nbf`, and (with revocations)
    /// that neither the session nor the user's earlier tokens were revoked; returns the claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.verify_signed(token).await?;
        if self.revocations.as_ref().is_some_and(|r| r.is_revoked(super::TokenRef::from(&claims))) {
            return Err(TokenError::Revoked);
        }
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Algorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        if self.stale() {
            // Errors are logged inside; the cached keys stay in use meanwhile.
            let _ = self.refetch(true).await;
        }
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                self.refetch(false).await?;
                self.key(&kid).ok_or(TokenError::UnknownKey)?
            }
        };
        jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                    TokenError::Malformed
                }
                _ => TokenError::Invalid,
            }
        })
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().expect("key cache lock poisoned").get(kid).cloned()
    }

    /// Keys were fetched, but longer ago than `keys_ttl`.
    fn stale(&self) -> bool {
        self.fetched_at.read().expect("key cache lock poisoned").is_some_and(|t| t.elapsed() >= self.keys_ttl)
    }

    /// Refetches the JWKS unless that was tried less than `refetch_interval` ago. `for_ttl`: only
    /// if the keys are still stale once the lock is held (another task may have just refreshed).
    async fn refetch(&self, for_ttl: bool) -> Result<(), TokenError> {
        let mut last = self.last_fetch.lock().await;
        if for_ttl && !self.stale() {
            return Ok(());
        }
        let gap = if for_ttl { self.refetch_interval.min(self.keys_ttl) } else { self.refetch_interval };
        if last.is_some_and(|t| t.elapsed() < gap) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let set: JwkSet = async { self.http.get(self.jwks_url.clone()).send().await?.error_for_status()?.json().await }
            .await
            .map_err(|e: reqwest::Error| {
                tracing::warn!(error = %e, url = %self.jwks_url, "cannot fetch JWKS");
                JWKS_FETCHES.with_label_values(&["error"]).inc();
                TokenError::KeysUnavailable
            })?;
        JWKS_FETCHES.with_label_values(&["ok"]).inc();
        let keys: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        tracing::debug!(keys = keys.len(), "JWKS refreshed");
        *self.keys.write().expect("key cache lock poisoned") = keys;
        *self.fetched_at.write().expect("key cache lock poisoned") = Some(Instant::now());
        Ok(())
    }
}

/// JWKS fetches of every verifier in the process, by result (`ok`, `error`). The router's and
/// each subgraph's `/metrics` show it: failures mean tokens stop verifying once keys rotate.
pub static JWKS_FETCHES: std::sync::LazyLock<prometheus::IntCounterVec> = std::sync::LazyLock::new(|| {
    prometheus::IntCounterVec::new(prometheus::Opts::new("jwks_fetches_total", "JWKS fetches by result"), &["result"])
        .expect("a valid metric")
});

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{Json, Router, routing::get};

    use super::*;
    use crate::jwt::{SigningKey, jwks_document};

    /// A JWKS endpoint whose key set the test changes (key rotation lands with the auth issue;
    /// this exercises the verifier's cache on its own), counting how often it is fetched.
    async fn jwks_server(keys: Arc<Mutex<Vec<SigningKey>>>, hits: Arc<AtomicUsize>) -> url::Url {
        let app = Router::new().route(
            "/jwks",
            get(move || {
                hits.fetch_add(1, Ordering::SeqCst);
                let doc = jwks_document(&keys.lock().expect("not poisoned"));
                async move { Json(doc) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(async move { axum::serve(listener, app).await });
        url::Url::parse(&format!("http://{addr}/jwks")).expect("a URL")
    }

    fn claims() -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: "tessera".into(),
            aud: "tessera".into(),
            sub: uuid::Uuid::now_v7(),
            sid: uuid::Uuid::now_v7(),
            roles: vec![],
            scope: String::new(),
            iat: now,
            exp: now + 60,
            nbf: None,
            jti: uuid::Uuid::now_v7(),
            client_id: None,
        }
    }

    #[tokio::test]
    async fn keys_are_cached_and_forged_kids_cannot_flood_the_jwks_endpoint() {
        let first = SigningKey::generate();
        let (keys, hits) = (Arc::new(Mutex::new(vec![first.clone()])), Arc::new(AtomicUsize::new(0)));
        let url = jwks_server(keys, hits.clone()).await;
        let verifier = JwtVerifier::new(&JwtConfig { refetch_interval_seconds: 60, ..JwtConfig::default() }, url);

        for _ in 0..3 {
            verifier.verify(&first.sign(&claims())).await.expect("a published key verifies");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "verified from the cache after one fetch");

        for _ in 0..20 {
            let forged = SigningKey::generate().sign(&claims());
            assert_eq!(verifier.verify(&forged).await, Err(TokenError::UnknownKey));
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "unknown kids within the interval cause no refetch");
    }

    #[tokio::test]
    async fn a_rotated_in_key_is_picked_up_by_refetching_on_its_unknown_kid() {
        let old = SigningKey::generate();
        let (keys, hits) = (Arc::new(Mutex::new(vec![old.clone()])), Arc::new(AtomicUsize::new(0)));
        let url = jwks_server(keys.clone(), hits.clone()).await;
        let verifier = JwtVerifier::new(&JwtConfig { refetch_interval_seconds: 0, ..JwtConfig::default() }, url);
        verifier.verify(&old.sign(&claims())).await.expect("the old key verifies");

        let new = SigningKey::generate();
        keys.lock().expect("not poisoned").insert(0, new.clone());
        verifier.verify(&new.sign(&claims())).await.expect("the new key verifies after a refetch");
        verifier.verify(&old.sign(&claims())).await.expect("the old key stays valid while published");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_key_deleted_from_the_jwks_stops_verifying_within_the_keys_ttl() {
        let (kept, deleted) = (SigningKey::generate(), SigningKey::generate());
        let (keys, hits) = (Arc::new(Mutex::new(vec![kept.clone(), deleted.clone()])), Arc::new(AtomicUsize::new(0)));
        let url = jwks_server(keys.clone(), hits.clone()).await;
        let config = JwtConfig { refetch_interval_seconds: 60, keys_ttl_seconds: 1, ..JwtConfig::default() };
        let verifier = JwtVerifier::new(&config, url);
        verifier.verify(&deleted.sign(&claims())).await.expect("a published key verifies");

        // The compromised key is deleted; no unknown `kid` ever arrives to trigger a refetch.
        keys.lock().expect("not poisoned").retain(|k| k.kid != deleted.kid);
        verifier.verify(&deleted.sign(&claims())).await.expect("within the TTL the cached key still verifies");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(verifier.verify(&deleted.sign(&claims())).await, Err(TokenError::UnknownKey));
        verifier.verify(&kept.sign(&claims())).await.expect("the key still published verifies");
        assert_eq!(hits.load(Ordering::SeqCst), 2, "one fetch at first use, one when the TTL ran out");
    }
}
