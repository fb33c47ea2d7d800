//! A small SMTP receiver for tests: a tokio server on 127.0.0.1:0 that speaks EHLO, STARTTLS
//! (with a self-signed certificate for 127.0.0.1 made at start, whose PEM file the server under
//! test is told to trust), MAIL, RCPT, DATA and QUIT, and records every message it takes. It
//! refuses mail before STARTTLS, as a relay requiring TLS does.
//!
//! [`SmtpReceiver::stall`] makes it accept connections and never answer: a relay that hangs,
//! so the sender has composed and not sent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One message the receiver took.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA as sent (headers and body, dot-stuffing undone).
    pub data: String,
}

impl Received {
    /// A header's value (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = &mut value {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if value.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_string());
            }
        }
        value
    }

    /// The body after the headers, with quoted-printable soft breaks and escapes undone.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if !qp {
            return body.replace("\r\n", "\n");
        }
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    }
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    stalled: AtomicBool,
    connections: AtomicUsize,
    held: Mutex<Vec<TcpStream>>,
}

/// The receiver, running on its own tokio runtime (so tests stay synchronous).
pub struct SmtpReceiver {
    pub port: u16,
    /// The PEM file of its certificate (what the server's `ca_file` names).
    pub ca_file: PathBuf,
    shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
}

impl SmtpReceiver {
    pub fn start(dir: &Path) -> SmtpReceiver {
        let (ca_file, config) = floorwatch_tests::tls::self_signed(dir, "smtp-ca.pem");
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared::default());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = shared.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                accepting.connections.fetch_add(1, Ordering::SeqCst);
                if accepting.stalled.load(Ordering::SeqCst) {
                    accepting.held.lock().unwrap().push(stream);
                    continue;
                }
                let shared = accepting.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = session(stream, acceptor, shared).await;
                });
            }
        });
        SmtpReceiver {
            port,
            ca_file,
            shared,
            runtime,
        }
    }

    /// From now on, connections are accepted and never answered (or answered again).
    pub fn stall(&self, stalled: bool) {
        self.shared.stalled.store(stalled, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// The `[digest]` table sending at `at` (local `HH:MM`) through this relay: STARTTLS with
    /// its certificate trusted, retries from 100 ms, a timeout long enough that a stalled relay
    /// hangs the sender (composed, not sent). What every digest test's config shares; the
    /// recipients (`[[digest.email]]`, `[[digest.webhooks]]`) follow it.
    pub fn digest_toml(&self, at: &str) -> String {
        format!(
            r#"
[digest]
at = "{at}"

[digest.smtp]
host = "127.0.0.1"
port = {port}
from = "Floorwatch <floorwatch@hotline.example>"
ca_file = "{ca}"
timeout_s = 600
retry_first_ms = 100
retry_max_s = 1
"#,
            port = self.port,
            ca = self.ca_file.display(),
        )
    }

    /// The runtime the receiver runs on (for a webhook receiver beside it).
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }
}

async fn reply<S: AsyncWrite + Unpin>(stream: &mut S, text: &str) -> std::io::Result<()> {
    stream.write_all(text.as_bytes()).await?;
    stream.flush().await
}

/// Before STARTTLS: greeting, EHLO offering STARTTLS, then the TLS handshake.
async fn session(
    stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    reply(reader.get_mut(), "220 test-relay ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        if verb.starts_with("EHLO") || verb.starts_with("HELO") {
            reply(
                reader.get_mut(),
                "250-test-relay\r\n250-8BITMIME\r\n250 STARTTLS\r\n",
            )
            .await?;
        } else if verb == "STARTTLS" {
            reply(reader.get_mut(), "220 go ahead\r\n").await?;
            let tls = acceptor.accept(reader.into_inner()).await?;
            return transaction(BufReader::new(tls), shared).await;
        } else if verb == "QUIT" {
            return reply(reader.get_mut(), "221 bye\r\n").await;
        } else {
            reply(reader.get_mut(), "530 5.7.0 must issue STARTTLS first\r\n").await?;
        }
    }
}

/// After STARTTLS: mail transactions until QUIT.
async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
    mut reader: BufReader<S>,
    shared: Arc<Shared>,
) -> std::io::Result<()> {
    let mut line = String::new();
    let mut from = String::new();
    let mut to = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let text = line.trim_end().to_string();
        let verb = text.to_ascii_uppercase();
        if verb.starts_with("EHLO") || verb.starts_with("HELO") {
            reply(reader.get_mut(), "250-test-relay\r\n250 8BITMIME\r\n").await?;
        } else if verb.starts_with("MAIL FROM:") {
            from = address(&text);
            to.clear();
            reply(reader.get_mut(), "250 2.1.0 ok\r\n").await?;
        } else if verb.starts_with("RCPT TO:") {
            to.push(address(&text));
            reply(reader.get_mut(), "250 2.1.5 ok\r\n").await?;
        } else if verb == "DATA" {
            reply(reader.get_mut(), "354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            shared.messages.lock().unwrap().push(Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            });
            reply(reader.get_mut(), "250 2.0.0 queued\r\n").await?;
        } else if verb == "QUIT" {
            return reply(reader.get_mut(), "221 bye\r\n").await;
        } else if verb == "RSET" || verb == "NOOP" {
            reply(reader.get_mut(), "250 ok\r\n").await?;
        } else {
            reply(reader.get_mut(), "502 5.5.2 not implemented\r\n").await?;
        }
    }
}

/// `MAIL FROM:<a@x> BODY=8BITMIME` → `a@x`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or_else(String::new, |(a, _)| a.to_string())
}

/// `time` (`HH:MM`) of `day` (`YYYY-MM-DD`) on the wall clock of `zone`, in ms since the epoch:
/// the digest is due by the centre's local clock.
pub fn local_ms(zone: &str, day: &str, time: &str) -> i64 {
    format!("{day}T{time}")
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond()
}
