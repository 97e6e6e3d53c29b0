//! With a certificate and key configured, the router serves HTTPS (and so WSS); given a CA
//! (`router.traffic.ca_path`), it reaches https subgraphs whose certificates that CA signed.

use tessera::SUBGRAPHS;
use tessera_kit::config::TlsConfig;
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

/// A users replica served over TLS with a self-signed certificate for `localhost`, answering
/// `me`. Returns its URL, the certificate's PEM file and the server's stop token.
async fn tls_replica(dir: &std::path::Path) -> (url::Url, std::path::PathBuf, tessera_kit::CancellationToken) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("a certificate");
    let (cert, key) = (dir.join("subgraph.pem"), dir.join("subgraph-key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("writes");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("writes");
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(|| async {
            axum::Json(serde_json::json!({ "data": { "me": { "id": "0190a1b2-0000-7000-8000-000000000002" } } }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = url::Url::parse(&format!("https://localhost:{}/graphql", listener.local_addr().expect("bound").port()))
        .expect("a URL");
    let stop = tessera_kit::CancellationToken::new();
    let (server_stop, server_cert) = (stop.clone(), cert.clone());
    tokio::spawn(async move {
        let grace = std::time::Duration::from_secs(1);
        tessera_kit::server::serve_tls(listener, app, server_stop, grace, &server_cert, &key).await.expect("serves");
    });
    (url, cert, stop)
}

/// Four signed-in `{ me { id } }`, alternating between the users subgraph and the TLS replica,
/// without retries: the error messages.
async fn errors_through_a_tls_replica(trust_its_ca: bool) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (replica, cert, stop) = tls_replica(dir.path()).await;
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.traffic.replicas.insert("users".into(), vec![replica]);
        c.router.traffic.retries = 0;
        c.router.traffic.breaker_failures = 100;
        c.router.traffic.ca_path = trust_its_ca.then_some(cert);
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
    stop.cancel();
    errors
}

#[tokio::test]
async fn an_https_subgraph_signed_by_the_configured_ca_is_reached_and_one_signed_by_no_known_ca_is_not() {
    assert_eq!(errors_through_a_tls_replica(true).await, Vec::<String>::new());
    let refused = errors_through_a_tls_replica(false).await;
    assert_eq!(refused.len(), 2, "the replica's certificate is trusted by nothing: {refused:?}");
    assert!(refused.iter().all(|m| m.contains("could not be reached")), "{refused:?}");
}
