//! The wire under the subgraph client: hyper's pooled HTTP/1.1 client, plain or over rustls.
//!
//! Not reqwest, although reqwest wraps this same client: per request, reqwest printed the URI
//! and parsed it back into a `Url` twice (its redirect policy and its response), matched it
//! against proxy settings and copied its default headers. That was about 4 % of the router's
//! CPU on a one-subgraph query (docs/performance.md). What the router needs from a subgraph
//! request is narrow (one POST, a bounded body, one deadline), so it says it here.
//!
//! Unlike reqwest's defaults, subgraph requests follow no redirects and ignore the
//! `HTTP_PROXY`/`HTTPS_PROXY` variables: a subgraph's URL is where its requests go. An https
//! subgraph's certificate must chain to Mozilla's roots or to `router.traffic.ca_path`.

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
use rustls::pki_types::{CertificateDer, pem::PemObject};

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
    /// `extra_roots`: CA certificates trusted beside Mozilla's (see [`read_roots`]).
    pub fn new(extra_roots: &[CertificateDer<'static>]) -> Self {
        let mut http = HttpConnector::new();
        // Requests and answers go out as soon as they are written (see tessera_kit::sockets).
        http.set_nodelay(true);
        // The TLS layer above takes https URIs; this one connects both.
        http.enforce_http(false);
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        // Each was parsed when read (`read_roots`); one the verifier cannot use is skipped.
        roots.add_parsable_certificates(extra_roots.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .expect("ring supports rustls' default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
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

/// The CA certificates in a PEM file (`router.traffic.ca_path`), refused with a message naming
/// the file when it cannot be read or holds none.
pub fn read_roots(path: &std::path::Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let unreadable =
        |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot read router.traffic.ca_path {}: {e}", path.display());
    let roots = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if roots.is_empty() {
        anyhow::bail!("router.traffic.ca_path {} holds no PEM certificate", path.display());
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused_with_its_path() {
        let missing = std::env::temp_dir().join(format!("tessera-no-such-ca-{}.pem", std::process::id()));
        let error = read_roots(&missing).expect_err("missing").to_string();
        assert!(error.contains("router.traffic.ca_path") && error.contains(&*missing.to_string_lossy()), "{error}");

        let empty = std::env::temp_dir().join(format!("tessera-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").expect("writes");
        let error = read_roots(&empty).expect_err("no certificate").to_string();
        std::fs::remove_file(&empty).ok();
        assert!(error.contains("holds no PEM certificate"), "{error}");
    }
}
