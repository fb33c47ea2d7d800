//! A TLS server configuration with a self-signed certificate for 127.0.0.1, made at test time:
//! what the tests' webhook and SMTP receivers present, and the PEM a server under test is
//! told to trust (`ca_file`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A server configuration for 127.0.0.1 with a certificate made now; its PEM is written to
/// `dir/pem_name`, whose path is returned beside it.
pub fn self_signed(dir: &Path, pem_name: &str) -> (PathBuf, Arc<rustls::ServerConfig>) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .unwrap_or_else(|e| panic!("making a certificate: {e}"));
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let pem = dir.join(pem_name);
    std::fs::write(&pem, made.cert.pem())
        .unwrap_or_else(|e| panic!("writing {}: {e}", pem.display()));
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .and_then(|b| {
        b.with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
    })
    .unwrap_or_else(|e| panic!("a TLS server configuration: {e}"));
    (pem, Arc::new(config))
}
