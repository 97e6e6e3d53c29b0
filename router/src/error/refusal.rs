//! A request refused before execution, and its HTTP response.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::RouterError;

/// The media type of GraphQL over HTTP's responses.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";

/// A request refused before execution: one or more errors (validation reports them all).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal(pub Vec<RouterError>);

/// Requests refused before execution, by code (`RATE_LIMITED`, `MAX_DEPTH_EXCEEDED`, …): every
/// refusal is answered through [`Refusal::response`], so this is where it is counted. One
/// counter for the process, shown on each router's `/metrics`.
pub static REFUSALS: std::sync::LazyLock<prometheus::IntCounterVec> = std::sync::LazyLock::new(|| {
    prometheus::IntCounterVec::new(
        prometheus::Opts::new("refusals_total", "Requests refused before execution, by extensions.code"),
        &["code"],
    )
    .expect("a valid metric")
});

impl From<RouterError> for Refusal {
    fn from(error: RouterError) -> Self {
        Self(vec![error])
    }
}

impl Refusal {
    pub fn errors(&self) -> Vec<Value> {
        self.0.iter().map(RouterError::graphql).collect()
    }

    /// The most severe status among the errors (a 4xx over a 200).
    pub fn status(&self, modern: bool) -> StatusCode {
        self.0.iter().map(|e| e.status(modern)).max_by_key(|s| s.as_u16()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    /// The HTTP response: status, headers, and `{"errors": [...]}`, in
    /// `application/graphql-response+json` for a client that accepts it (`modern`), so it can
    /// read the errors of a 4xx (Apollo Client 4 reads a 4xx in plain JSON as a bare
    /// `ServerError`, its codes out of reach).
    pub fn response(&self, modern: bool) -> Response {
        for error in &self.0 {
            REFUSALS.with_label_values(&[error.code()]).inc();
        }
        let mut response = (self.status(modern), Json(json!({ "errors": self.errors() }))).into_response();
        if modern {
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPHQL_RESPONSE_JSON));
        }
        for (name, value) in self.0.iter().flat_map(RouterError::headers) {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_refusal_takes_the_most_severe_status_and_the_headers_of_its_errors() {
        let refusal = Refusal(vec![
            RouterError::ParseFailed("x".into()),
            RouterError::RateLimited { retry_after: Duration::from_millis(1200) },
        ]);
        let response = refusal.response(false);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(refusal.errors()[1]["extensions"], json!({ "code": "RATE_LIMITED", "retryAfterSeconds": 2 }));
    }

    #[test]
    fn a_client_that_accepts_graphql_responses_gets_its_refusal_in_that_media_type() {
        let refusal = Refusal::from(RouterError::ParseFailed("Unexpected `}`".into()));
        let modern = refusal.response(true);
        assert_eq!(modern.status(), StatusCode::BAD_REQUEST);
        assert_eq!(modern.headers()[header::CONTENT_TYPE], GRAPHQL_RESPONSE_JSON);
        assert_eq!(refusal.response(false).headers()[header::CONTENT_TYPE], "application/json");
    }
}
