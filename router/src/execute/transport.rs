//! The wire under the subgraph client: hyper's pooled HTTP/1.1 client, plain or over rustls.
//!
//! Not reqwest, although reqwest wraps this same client: per request, reqwest printed the URI
//! and parsed it back into a `Url` twice (its redirect policy and its response), matched it
//! against proxy settings and copied its default headers. That was about 4 % of the router's
//! CPU on a one-subgraph query (docs/performance.md). What the router needs from a subgraph
//! request is narrow (one POST, a bounded body, one deadline), so it says it here.
//!
//! Unlike reqwest's defaults, subgraph requests follow no redirects and ignore the
//! `HTTP_PROXY`/`HTTPS_PROXY` variables: a subgraph's URL is where its requests go. Whom an
//! https subgraph must be trusted by, and the certificate the router presents, are `tls.rs`'s.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};

/// How long an idle pooled connection is kept (reqwest's default).
const IDLE: Duration = Duration::from_secs(90);

/// A subgraph's HTTP response: its headers, and the body, read to its end.
pub(super) struct Reply {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why an exchange gave no reply.
pub(super) enum Broken {
    /// The body would pass the caller's limit (as declared, or as read so far).
    TooLarge,
    /// Connecting, writing or reading failed.
    Unreachable,
}

pub(super) struct Transport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Transport {
    /// `tls`: whom https subgraphs are trusted by, and the router's own certificate (`tls.rs`).
    pub fn new(tls: rustls::ClientConfig) -> Self {
        let mut http = HttpConnector::new();
        // Requests and answers go out as soon as they are written (see tessera_kit::sockets).
        http.set_nodelay(true);
        // The TLS layer above takes https URIs; this one connects both.
        http.enforce_http(false);
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client =
            Client::builder(TokioExecutor::new()).pool_idle_timeout(IDLE).pool_timer(TokioTimer::new()).build(tls);
        Self { client }
    }

    /// POSTs `body` (JSON) to `uri` with the caller's forwarded headers, and reads the answer up
    /// to `limit` bytes. The caller bounds the whole exchange in time.
    pub async fn post(
        &self,
        uri: &Uri,
        body: Bytes,
        forward: &[(HeaderName, HeaderValue)],
        traceparent: Option<String>,
        limit: usize,
    ) -> Result<Reply, Broken> {
        let mut request = Request::post(uri.clone()).body(Full::new(body)).expect("a POST to a parsed URI builds");
        let headers = request.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in forward {
            headers.append(name.clone(), value.clone());
        }
        if let Some(value) = traceparent.and_then(|t| HeaderValue::from_str(&t).ok()) {
            headers.insert("traceparent", value);
        }
        let response = self.client.request(request).await.map_err(|_| Broken::Unreachable)?;
        let (parts, mut incoming) = response.into_parts();
        let declared = incoming.size_hint().exact();
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Broken::TooLarge);
        }
        let body = read_to_end(&mut incoming, declared, limit).await?;
        Ok(Reply { headers: parts.headers, body })
    }
}

/// Reads frame by frame, so a body without a length (or lying about it) stops at `limit`.
async fn read_to_end(incoming: &mut Incoming, declared: Option<u64>, limit: usize) -> Result<Vec<u8>, Broken> {
    let mut raw = Vec::with_capacity(declared.map_or(8 * 1024, |n| n as usize));
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|_| Broken::Unreachable)?;
        let Ok(chunk) = frame.into_data() else { continue }; // trailers
        if raw.len() + chunk.len() > limit {
            return Err(Broken::TooLarge);
        }
        raw.extend_from_slice(&chunk);
    }
    Ok(raw)
}
