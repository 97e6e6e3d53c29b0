//! Logging and traces. Logs: pretty for people, JSON for collectors; every line of a request
//! carries its id. Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, every span is exported
//! over OTLP/HTTP (protobuf, or JSON with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), and one trace
//! follows a request across processes: the router sends W3C `traceparent` to the subgraphs,
//! each subgraph continues the trace it receives, and an event carries the trace of the request
//! that wrote it through the outbox and the bus into the consumer that applies it.

use std::collections::HashMap;

use axum::Router;
use http::{HeaderMap, HeaderName, Request};
use opentelemetry::{
    global,
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::config::LogFormat;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Whether spans are exported. When they are not (the default), no trace context is read from
/// requests or written to calls and events: that work sits on every request and subgraph fetch.
static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn exporting() -> bool {
    EXPORTING.load(std::sync::atomic::Ordering::Relaxed)
}

/// Flushes the exported spans when dropped (at the end of `main`).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("tessera: the last spans were not exported: {e}");
        }
    }
}

fn otlp_endpoint() -> Option<String> {
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// The OTLP pipeline, when an endpoint is configured. `service` names the process in traces
/// (`OTEL_SERVICE_NAME` overrides it).
fn tracer_provider(service: &str) -> Option<SdkTracerProvider> {
    otlp_endpoint()?;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let protocol = match std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        Ok("http/json") => Protocol::HttpJson,
        _ => Protocol::HttpBinary,
    };
    let exporter = match opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(protocol).build() {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("tessera: traces are not exported: {e}");
            return None;
        }
    };
    let name = std::env::var("OTEL_SERVICE_NAME").ok().filter(|n| !n.is_empty()).unwrap_or_else(|| service.to_owned());
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(name).build();
    Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

/// Installs the global subscriber once, naming this process `service` in traces. `RUST_LOG`
/// overrides the default filter. Keep the answer alive until the process ends.
pub fn init(format: LogFormat, service: &str) -> Telemetry {
    use tracing_subscriber::{EnvFilter, Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn,async_graphql=warn"));
    global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = tracer_provider(service);
    EXPORTING.store(provider.is_some(), std::sync::atomic::Ordering::Relaxed);
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("tessera")));
    let logs = match format {
        LogFormat::Pretty => fmt::layer().with_target(false).compact().boxed(),
        LogFormat::Json => fmt::layer().json().flatten_event(true).with_current_span(true).boxed(),
    };
    // A second init (tests, or several components in one process) keeps the first: fine.
    let _ = tracing_subscriber::registry().with(filter).with(logs).with(otel).try_init();
    Telemetry(provider)
}

/// The W3C `traceparent` of the current span, to send along with a call or an event; None when
/// no trace is being recorded.
pub fn traceparent() -> Option<String> {
    if !exporting() {
        return None;
    }
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` continue the trace a caller sent (`traceparent`), if any.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(value) = traceparent.filter(|_| exporting()) else { return };
    let carrier: HashMap<String, String> = [("traceparent".to_owned(), value.to_owned())].into();
    let parent = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(parent);
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Takes `x-request-id` from the request or makes one, opens a span carrying it for everything
/// the request logs (continuing the caller's trace), and returns it on the response.
pub fn with_request_ids(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            let span =
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
            if exporting() {
                let parent = TraceContextPropagator::new().extract(&Headers(req.headers()));
                let _ = span.set_parent(parent);
            }
            span
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomIds))
}

/// Makes request ids: random version-4 UUIDs, as tower-http's `MakeRequestUuid` does, but drawn
/// from the thread's fastrand generator instead of a `getrandom` system call on every request
/// (about 1 % of the router's CPU on a one-subgraph query). An id only has to be unique enough
/// to find a request's log lines: it is no secret and grants nothing, and a caller may send its
/// own.
#[derive(Clone, Copy)]
struct RandomIds;

impl MakeRequestId for RandomIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        Some(RequestId::new(random_id()))
    }
}

fn random_id() -> http::HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
    let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
    http::HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text)).expect("a UUID is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_trace_there_is_no_traceparent_to_send() {
        assert_eq!(traceparent(), None);
    }

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| random_id().to_str().expect("ASCII").to_owned()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let uuid = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random));
            assert_eq!(id, &uuid.hyphenated().to_string());
        }
    }
}
