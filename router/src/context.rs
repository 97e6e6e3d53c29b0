//! The request context: who is calling, and what goes to the subgraphs on their behalf. Every
//! transport builds it through here (HTTP POST and GET, a websocket `connection_init` and each
//! websocket message that starts an operation, a multipart subscription), so each gets the same
//! checks by construction:
//! - the token is verified against the JWKS, and its session checked against revocations;
//! - the per-user budget (and, for websocket messages, the per-IP one) is charged;
//! - only a verified token is ever forwarded. Headers the client sent are forwarded from a fixed
//!   list that excludes `Authorization`; the context adds the verified one itself.

use std::{net::IpAddr, sync::Arc};

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use tessera_kit::jwt::{Claims, TokenRef};

use crate::{RouterState, error::RouterError, execute::Forward};

/// Headers passed through to subgraphs as the client sent them. Not `Authorization`: that one
/// is forwarded only once verified.
pub(crate) const PASSED_THROUGH: [&str; 4] = ["x-request-id", "traceparent", "x-forwarded-for", "user-agent"];

#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The verified claims; None for an anonymous caller.
    pub caller: Option<Claims>,
    /// The verified token, for an upstream subscription's `connection_init`. Shared, not
    /// copied, by everything that outlives the request (a subscription's feed, its upstream
    /// connection): a token is about half a kilobyte, per caller.
    pub token: Option<Arc<str>>,
    /// What every subgraph request carries on the caller's behalf.
    pub forward: Forward,
    /// The client's address, for per-IP budgets.
    pub peer: Option<IpAddr>,
}

/// Which budgets a request is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// An HTTP request: the per-IP middleware charged its IP already.
    User,
    /// A websocket message, or a batch's operation after its first: no middleware sees it, so
    /// its IP is charged here too.
    IpAndUser,
}

/// The bearer token in an `Authorization` value (`Bearer x`, or a bare token); None when empty.
pub fn bearer(value: &str) -> Option<&str> {
    Some(tessera_kit::server::bearer(value)).filter(|t| !t.is_empty())
}

/// The token of a request's `Authorization` header.
pub fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer)
}

/// Verifies `token` (None: anonymous) and charges the budgets: the whole admission of one request.
pub async fn authenticate(
    state: &RouterState,
    token: Option<&str>,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    charge: Charge,
) -> Result<RequestContext, RouterError> {
    let caller = verify(state, token).await?;
    let context = RequestContext::new(caller, token.map(str::to_owned), headers, peer);
    context.charge(state, charge).await?;
    Ok(context)
}

/// The claims of a verified, unrevoked token; None for no token.
async fn verify(state: &RouterState, token: Option<&str>) -> Result<Option<Claims>, RouterError> {
    let Some(token) = token else { return Ok(None) };
    let claims = state.verifier.verify(token).await.map_err(|e| RouterError::InvalidToken(e.to_string()))?;
    if state.revocations.is_revoked(TokenRef::from(&claims)) {
        return Err(RouterError::SessionRevoked);
    }
    Ok(Some(claims))
}

impl RequestContext {
    /// A context for already verified `caller` and `token` (both None when anonymous).
    pub fn new(caller: Option<Claims>, token: Option<String>, headers: &HeaderMap, peer: Option<IpAddr>) -> Self {
        // Copied, not cloned: a parsed header value shares the HTTP connection's read buffer, and
        // a context can outlive its request by hours (a multipart subscription), holding that
        // whole buffer all along (the websocket case, measured, is in docs/performance.md).
        let mut forward: Vec<(HeaderName, HeaderValue)> = PASSED_THROUGH
            .iter()
            .filter_map(|name| {
                let value = HeaderValue::from_bytes(headers.get(*name)?.as_bytes()).ok()?;
                Some((HeaderName::from_static(name), value))
            })
            .collect();
        let token: Option<Arc<str>> = token.filter(|_| caller.is_some()).map(Arc::from);
        if let Some(value) = token.as_ref().and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) {
            forward.push((header::AUTHORIZATION, value));
        }
        Self { caller, token, forward: Forward(forward), peer }
    }

    /// Re-admits a long-lived context for one more operation (a websocket message): the session
    /// must still stand and the token must not have expired, and the budgets are charged again.
    pub async fn readmit(&self, state: &RouterState) -> Result<(), RouterError> {
        if let Some(claims) = &self.caller {
            if state.revocations.is_revoked(TokenRef::from(claims)) {
                return Err(RouterError::SessionRevoked);
            }
            if claims.exp <= chrono::Utc::now().timestamp() {
                return Err(RouterError::TokenExpired);
            }
        }
        self.charge(state, Charge::IpAndUser).await
    }

    async fn charge(&self, state: &RouterState, charge: Charge) -> Result<(), RouterError> {
        let limited = |retry_after| RouterError::RateLimited { retry_after };
        if charge == Charge::IpAndUser {
            let ip = self.peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            state.rate_limiter.check(&format!("ip:{ip}"), &state.rate_limits.per_ip).await.map_err(limited)?;
        }
        if let Some(claims) = &self.caller {
            state
                .rate_limiter
                .check(&format!("user:{}", claims.sub), &state.rate_limits.per_user)
                .await
                .map_err(limited)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_context_never_forwards_the_clients_authorization_header() {
        let headers: HeaderMap = [
            (header::AUTHORIZATION, HeaderValue::from_static("Bearer stolen")),
            (HeaderName::from_static("x-request-id"), HeaderValue::from_static("r1")),
        ]
        .into_iter()
        .collect();
        let context = RequestContext::new(None, Some("stolen".into()), &headers, None);
        assert_eq!(context.token, None, "an unverified token is not kept");
        let names: Vec<&str> = context.forward.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-request-id"]);
    }
}
