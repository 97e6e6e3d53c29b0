//! Logging: pretty for people, JSON for collectors; every line of a request carries its id.

use axum::Router;
use http::{HeaderName, Request};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::config::LogFormat;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber once. `RUST_LOG` overrides the default filter.
pub fn init(format: LogFormat) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn,async_graphql=warn"));
    let result = match format {
        LogFormat::Pretty => fmt().with_env_filter(filter).with_target(false).compact().try_init(),
        LogFormat::Json => fmt().with_env_filter(filter).json().flatten_event(true).with_current_span(true).try_init(),
    };
    // A second init (tests, or several components in one process) keeps the first: fine.
    drop(result);
}

/// Takes `x-request-id` from the request or makes one, opens a span carrying it for everything
/// the request logs, and returns it on the response.
pub fn with_request_ids(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
