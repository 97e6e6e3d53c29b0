//! With a certificate and key configured, the router serves HTTPS (and so WSS); given a CA
//! (`router.traffic.ca_path`), it reaches https subgraphs whose certificates that CA signed; given
//! a client certificate (`router.traffic.client_cert_path`), it presents it to subgraphs that
//! accept only callers they know (mutual TLS).

use std::{path::Path, sync::Arc};
use tessera::SUBGRAPHS;

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use tessera_kit::config::{Config, TlsConfig};
use tessera_testkit::{spawn_configured, test_bus};

#[tokio::test]
async fn the_router_terminates_tls_with_the_configured_certificate() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("a certificate");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("writes");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("writes");
    let tls = TlsConfig { cert_path: cert, key_path: key };
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| c.router.tls = Some(tls)).await;

    let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("a PEM certificate");
    let https = reqwest::Client::builder().add_root_certificate(trusted).build().expect("a client");
    let url = format!("https://localhost:{}/graphql", stack.router.port());
    let res =
        https.post(&url).json(&serde_json::json!({ "query": "{ signedIn }" })).send().await.expect("HTTPS answers");
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("JSON"),
        serde_json::json!({ "data": { "signedIn": false } })
    );

    let plain = reqwest::get(format!("http://localhost:{}/health", stack.router.port())).await;
    assert!(plain.is_err() || !plain.expect("answered").status().is_success(), "plain HTTP is not served");
}

/// A users replica answering `me` over TLS with `tls`. Returns its URL and its stop token.
async fn tls_replica(tls: RustlsConfig) -> (url::Url, tessera_kit::CancellationToken) {
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(|| async {
            axum::Json(serde_json::json!({ "data": { "me": { "id": "0190a1b2-0000-7000-8000-000000000002" } } }))
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.set_nonblocking(true).expect("non-blocking");
    let url = url::Url::parse(&format!("https://localhost:{}/graphql", listener.local_addr().expect("bound").port()))
        .expect("a URL");
    let stop = tessera_kit::CancellationToken::new();
    let handle = axum_server::Handle::new();
    let (shutdown, stopped) = (handle.clone(), stop.clone());
    tokio::spawn(async move {
        stopped.cancelled().await;
        shutdown.shutdown();
    });
    let server = axum_server::from_tcp_rustls(listener, tls).expect("a TLS server").handle(handle);
    tokio::spawn(async move { server.serve(app.into_make_service()).await.expect("serves") });
    (url, stop)
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writes");
    path
}

/// Four signed-in `{ me { id } }`, alternating between the users subgraph and `replica`, without
/// retries: the error messages.
async fn errors_through(replica: url::Url, configure: impl FnOnce(&mut Config) + Send + 'static) -> Vec<String> {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.traffic.replicas.insert("users".into(), vec![replica]);
        c.router.traffic.retries = 0;
        c.router.traffic.breaker_failures = 100;
        configure(c);
    })
    .await;
    let keys = tessera_auth::KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys");
    let token = keys.sign(&tessera_testkit::claims_for(uuid::Uuid::now_v7(), &["customer"]));
    let mut errors = Vec::new();
    for _ in 0..4 {
        let (_, body) = tessera_testkit::graphql(&stack.router_url("/graphql"), "{ me { id } }", Some(&token)).await;
        if let Some(error) = body["errors"].get(0) {
            errors.push(error["message"].as_str().expect("a message").to_owned());
        } else {
            assert!(body["data"]["me"]["id"].is_string(), "{body}");
        }
    }
    errors
}

fn assert_half_unreachable(errors: &[String]) {
    assert_eq!(errors.len(), 2, "exactly the queries sent to the replica fail: {errors:?}");
    assert!(errors.iter().all(|m| m.contains("could not be reached")), "{errors:?}");
}

#[tokio::test]
async fn an_https_subgraph_signed_by_the_configured_ca_is_reached_and_one_signed_by_no_known_ca_is_not() {
    for trust_its_ca in [true, false] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("a certificate");
        let cert = write(dir.path(), "subgraph.pem", &certified.cert.pem());
        let key = certified.signing_key.serialize_pem();
        let tls = RustlsConfig::from_pem(certified.cert.pem().into_bytes(), key.into_bytes()).await.expect("TLS");
        let (replica, stop) = tls_replica(tls).await;
        let errors = errors_through(replica, move |c| c.router.traffic.ca_path = trust_its_ca.then_some(cert)).await;
        stop.cancel();
        if trust_its_ca {
            assert_eq!(errors, Vec::<String>::new());
        } else {
            assert_half_unreachable(&errors);
        }
    }
}

/// A certificate authority, made for one test.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self { ca: CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key")).expect("a CA") }
    }

    /// A certificate this CA signed for `name` with `usage`, and its key (both PEM).
    fn sign(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params = CertificateParams::new(vec![name.to_owned()]).expect("parameters");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.ca).expect("signed");
        (cert.pem(), key.serialize_pem())
    }
}

/// TLS for a replica that serves `localhost` with a certificate from `servers` and accepts only
/// clients whose certificates `clients` signed.
fn requiring_client_certificates(servers: &Pki, clients: &Pki) -> RustlsConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(clients.ca.der().clone()).expect("a CA certificate");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("a client verifier");
    let (cert, key) = servers.sign("localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes()).collect::<Result<Vec<_>, _>>();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("a key");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain.expect("a chain"), key)
        .expect("a server configuration");
    RustlsConfig::from_config(Arc::new(config))
}

#[tokio::test]
async fn a_subgraph_that_requires_a_client_certificate_answers_the_router_only_with_one_its_ca_signed() {
    let (servers, clients, strangers) = (Pki::new(), Pki::new(), Pki::new());
    // Three routers: one presenting a certificate the replica's CA signed, one presenting a
    // certificate another CA signed, one presenting none.
    for (presented, accepted) in [(Some(&clients), true), (Some(&strangers), false), (None, false)] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ca = write(dir.path(), "ca.pem", &servers.ca.pem());
        let identity = presented.map(|pki| {
            let (cert, key) = pki.sign("router", ExtendedKeyUsagePurpose::ClientAuth);
            (write(dir.path(), "router.pem", &cert), write(dir.path(), "router-key.pem", &key))
        });
        let (replica, stop) = tls_replica(requiring_client_certificates(&servers, &clients)).await;
        let errors = errors_through(replica, move |c| {
            c.router.traffic.ca_path = Some(ca);
            (c.router.traffic.client_cert_path, c.router.traffic.client_key_path) = identity.unzip();
        })
        .await;
        stop.cancel();
        if accepted {
            assert_eq!(errors, Vec::<String>::new(), "the replica accepts the router's certificate");
        } else {
            assert_half_unreachable(&errors);
        }
    }
}
