//! CSRF prevention (as Apollo Router and Apollo Server do it). A browser sends a "simple"
//! request cross-origin without a preflight, so such a request must not execute: it runs only if
//! its Content-Type is not a simple one (`application/x-www-form-urlencoded`,
//! `multipart/form-data`, `text/plain`, or none), or it carries a header a simple request cannot:
//! `apollo-require-preflight` or `x-apollo-operation-name`.
//!
//! GET is exempt, unlike in Apollo's routers: GET runs queries only, and Tessera takes
//! credentials from the `Authorization` header, never from cookies, so a cross-site GET can
//! neither change anything nor act as the user. Exempting it keeps plain GET working for
//! GraphQL-over-HTTP clients (the graphql-http audit sends bare GETs).

use axum::http::{HeaderMap, header};

const SIMPLE_TYPES: [&str; 3] = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];
const PREFLIGHT_HEADERS: [&str; 2] = ["apollo-require-preflight", "x-apollo-operation-name"];

/// Whether a request could have been sent by a cross-site form or `fetch` without a preflight.
pub fn is_unsafe(headers: &HeaderMap) -> bool {
    if PREFLIGHT_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return false;
    }
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ct) => {
            let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            SIMPLE_TYPES.contains(&essence.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().expect("name"), v.parse().expect("value"))).collect()
    }

    #[test]
    fn simple_content_types_without_a_preflight_header_are_unsafe() {
        assert!(is_unsafe(&headers(&[("content-type", "text/plain;charset=utf-8")])));
        assert!(is_unsafe(&headers(&[("content-type", "application/x-www-form-urlencoded")])));
        assert!(is_unsafe(&headers(&[])));
    }

    #[test]
    fn json_or_a_preflight_header_is_safe() {
        assert!(!is_unsafe(&headers(&[("content-type", "application/json")])));
        assert!(!is_unsafe(&headers(&[("content-type", "text/plain"), ("apollo-require-preflight", "true")])));
        assert!(!is_unsafe(&headers(&[("x-apollo-operation-name", "Q")])));
    }
}
