//! With a certificate and key configured, the router serves HTTPS (and so WSS).

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
