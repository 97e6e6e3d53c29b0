//! The TLS settings of subgraph requests: whom the router trusts, and who it says it is.
//!
//! An https subgraph's certificate must chain to Mozilla's roots or to the CA certificates of
//! `router.traffic.ca_path`. With `router.traffic.client_cert_path` and `client_key_path`, the
//! router presents that certificate to subgraphs that ask for one (mutual TLS), so a subgraph
//! can accept the router's connections and refuse everyone else's. Everything is read and
//! checked at start: a file that cannot be read, holds nothing usable, or a key that does not
//! belong to its certificate stops the router with a message naming the setting and the path.

use std::path::Path;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tessera_kit::config::TrafficConfig;

/// The rustls client configuration for subgraph requests, from `traffic`'s TLS settings.
pub fn client_config(traffic: &TrafficConfig) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = &traffic.ca_path {
        // Each was parsed when read; one the verifier cannot use is skipped.
        roots.add_parsable_certificates(read_certificates("router.traffic.ca_path", path)?);
    }
    let builder = rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls' default protocol versions")
        .with_root_certificates(roots);
    match (&traffic.client_cert_path, &traffic.client_key_path) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), Some(key)) => {
            let chain = read_certificates("router.traffic.client_cert_path", cert)?;
            let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                // The error names the file and what was wrong with it, never its contents.
                anyhow::anyhow!("cannot read a private key from router.traffic.client_key_path {}: {e}", key.display())
            })?;
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                anyhow::anyhow!(
                    "router.traffic.client_key_path {} does not fit the certificate in router.traffic.client_cert_path {}: {e}",
                    key.display(),
                    cert.display()
                )
            })
        }
        _ => anyhow::bail!(
            "router.traffic.client_cert_path and router.traffic.client_key_path are set together or not at all"
        ),
    }
}

/// The certificates in a PEM file, refused with a message naming `setting` and the file when it
/// cannot be read or holds none.
fn read_certificates(setting: &str, path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot read {setting} {}: {e}", path.display());
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certificates.is_empty() {
        anyhow::bail!("{setting} {} holds no PEM certificate", path.display());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("tessera-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("writes");
        path
    }

    fn error(traffic: TrafficConfig) -> String {
        client_config(&traffic).expect_err("refused").to_string()
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused_with_its_path() {
        let missing = std::env::temp_dir().join(format!("tessera-no-such-ca-{}.pem", std::process::id()));
        let message = error(TrafficConfig { ca_path: Some(missing.clone()), ..TrafficConfig::default() });
        assert!(
            message.contains("router.traffic.ca_path") && message.contains(&*missing.to_string_lossy()),
            "{message}"
        );

        let empty = temp("empty-ca.pem", "not a certificate\n");
        let message = error(TrafficConfig { ca_path: Some(empty.clone()), ..TrafficConfig::default() });
        std::fs::remove_file(&empty).ok();
        assert!(message.contains("holds no PEM certificate"), "{message}");
    }

    #[test]
    fn a_client_certificate_without_its_key_or_with_another_certificates_key_is_refused() {
        let mine = rcgen::generate_simple_self_signed(vec!["router".into()]).expect("a certificate");
        let other = rcgen::generate_simple_self_signed(vec!["router".into()]).expect("a certificate");
        let cert = temp("client.pem", &mine.cert.pem());
        let other_key = temp("other-key.pem", &other.signing_key.serialize_pem());
        let own_key = temp("own-key.pem", &mine.signing_key.serialize_pem());

        let alone = error(TrafficConfig { client_cert_path: Some(cert.clone()), ..TrafficConfig::default() });
        assert!(alone.contains("set together"), "{alone}");
        let mismatched = error(TrafficConfig {
            client_cert_path: Some(cert.clone()),
            client_key_path: Some(other_key.clone()),
            ..TrafficConfig::default()
        });
        assert!(
            mismatched.contains("does not fit") && mismatched.contains(&*other_key.to_string_lossy()),
            "{mismatched}"
        );
        let keyless = error(TrafficConfig {
            client_cert_path: Some(cert.clone()),
            client_key_path: Some(cert.clone()),
            ..TrafficConfig::default()
        });
        assert!(keyless.contains("cannot read a private key"), "{keyless}");
        let fitting = client_config(&TrafficConfig {
            client_cert_path: Some(cert.clone()),
            client_key_path: Some(own_key.clone()),
            ..TrafficConfig::default()
        });
        for path in [cert, other_key, own_key] {
            std::fs::remove_file(path).ok();
        }
        assert!(fitting.expect("a key that fits its certificate").client_auth_cert_resolver.has_certs());
    }
}
