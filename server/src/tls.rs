//! Encrypted transport: with `--tls-cert FILE --tls-key FILE` the server speaks HTTPS and wss
//! on its one port (shared/DOMAIN.md: "encrypted transport (TLS, wss)"); without them, plain
//! HTTP and ws as before (docs/SECURITY.md).
//!
//! rustls with the ring provider. TLS handshakes run in each connection's own task
//! (`crate::serve`), each with a time limit, so one slow or silent client never holds up the
//! next connection. Certificates are read once at start-up: replacing them means a restart.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// A client that has not finished its TLS handshake by then is dropped.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// `--tls-cert` and `--tls-key` (or the `tls-cert` / `tls-key` keys of the config file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// PEM: the server's certificate first, then any intermediates.
    pub(crate) cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: PathBuf,
}

impl TlsFiles {
    /// Both files or neither: one without the other is a mistake, named by its key (the key
    /// at fault and why).
    pub(crate) fn pair(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> Result<Option<TlsFiles>, (&'static str, String)> {
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (Some(_), None) => Err((
                "tls-key",
                "tls-cert is set: give the private key file too".into(),
            )),
            (None, Some(_)) => Err((
                "tls-cert",
                "tls-key is set: give the certificate file too".into(),
            )),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("TLS certificate {path}: {message}")]
    Cert { path: PathBuf, message: String },
    #[error("TLS key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("TLS: the key does not fit the certificate, or one is unusable: {0}")]
    Config(rustls::Error),
}

/// The rustls configuration from the two files; `None` without TLS.
pub(crate) fn server_config(
    files: Option<&TlsFiles>,
) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let Some(files) = files else {
        return Ok(None);
    };
    let certs = read_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        message: pem_message(e),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Config)?;
    // The server speaks HTTP/1.1 (websockets upgrade from it).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |message: String| TlsError::Cert {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(pem_message(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(pem_message(e)))?;
    if certs.is_empty() {
        return Err(err("no CERTIFICATE section in the file".into()));
    }
    Ok(certs)
}

/// The PEM error in words; never the file's contents.
fn pem_message(e: rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(e) => e.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => "no matching PEM section in the file".into(),
        other => format!("not valid PEM ({other:?})"),
    }
}

/// One client connection, plain or encrypted.
pub(crate) enum Connection {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Connection::Plain(s) => s.is_write_vectored(),
            Connection::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_or_neither() {
        assert_eq!(TlsFiles::pair(None, None).unwrap(), None);
        let both = TlsFiles::pair(Some("c.pem".into()), Some("k.pem".into())).unwrap();
        assert_eq!(both.map(|f| f.key), Some(PathBuf::from("k.pem")));
        let (key, _) = TlsFiles::pair(Some("c.pem".into()), None).unwrap_err();
        assert_eq!(key, "tls-key");
        let (key, _) = TlsFiles::pair(None, Some("k.pem".into())).unwrap_err();
        assert_eq!(key, "tls-cert");
    }

    #[test]
    fn bad_files_are_named_and_their_contents_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, "not a certificate at all").unwrap();
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        };
        let err = server_config(Some(&files)).unwrap_err().to_string();
        assert!(
            err.contains("cert.pem") && err.contains("no CERTIFICATE"),
            "{err}"
        );
        let missing = TlsFiles {
            cert: dir.path().join("none.pem"),
            key,
        };
        let err = server_config(Some(&missing)).unwrap_err().to_string();
        assert!(err.contains("none.pem"), "{err}");
        assert!(server_config(None).unwrap().is_none());
    }
}
