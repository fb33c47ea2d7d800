//! Shared by the fake switch's tests: the canonical day reduced to what AMI carries, engines to
//! compare, and a real TCP client of `floorwatch-sim ami-server`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use floorwatch_core::ami::{AmiDecoder, AmiMessage, action};
use floorwatch_core::{Engine, Event, EventKind, Millis, Organisation, Scope, Window};
use floorwatch_sim::Scenario;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const DATE: &str = "2026-03-09";

/// The canonical event as AMI carries it (docs/CTI.md, "The fake switch"): IVR completions
/// are gone, a test call is an ordinary call, waits and talk are whole seconds (truncated, as
/// Asterisk's `time(NULL) - start`).
pub(crate) fn as_ami_carries(event: &Event) -> Option<Event> {
    let whole = |ms: &mut Option<Millis>| *ms = ms.map(|ms| ms / 1000 * 1000);
    let mut e = event.clone();
    e.test = false;
    match &mut e.kind {
        EventKind::CallIvrCompleted { .. } => return None,
        EventKind::CallAnswered { wait_ms, .. }
        | EventKind::CallAbandoned { wait_ms, .. }
        | EventKind::CallTimedOut { wait_ms, .. } => whole(wait_ms),
        EventKind::CallEnded { talk_ms, .. } | EventKind::CallTransferred { talk_ms, .. } => {
            whole(talk_ms)
        }
        _ => {}
    }
    Some(e)
}

/// The organisation the switch's clients are configured with: the scenario's.
pub(crate) fn org(scenario: &Scenario) -> Organisation {
    scenario.organisation()
}

pub(crate) fn canonical_engine(
    scenario: &Scenario,
    events: impl IntoIterator<Item = Event>,
) -> Engine {
    let mut engine = Engine::new(&org(scenario)).unwrap();
    for event in events {
        engine.apply(&event);
    }
    engine
}

/// Every figure of `scope` for today, equal in both engines.
pub(crate) fn assert_same_figures(expected: &Engine, got: &Engine, scope: &Scope, context: &str) {
    let e = expected.figures(scope, Window::Today).unwrap();
    let g = got.figures(scope, Window::Today).unwrap();
    assert_eq!(e, g, "{context}: {scope}");
}

/// `floorwatch-sim ami-server`, killed on drop.
pub(crate) struct Switch {
    child: Child,
    pub addr: String,
}

impl Switch {
    /// Starts the switch on port 0 with the small scenario of [`DATE`], `--speed max` (unless
    /// `extra` gives one) and the credentials `floorwatch` / `s3cret`, plus `extra` arguments;
    /// waits for its address.
    pub(crate) fn start(seed: u64, extra: &[&str]) -> Switch {
        let seed = seed.to_string();
        let mut args = vec![
            "ami-server",
            "--scenario",
            "small",
            "--date",
            DATE,
            "--seed",
            &seed,
            "--port",
            "0",
            "--username",
            "floorwatch",
            "--secret",
            "s3cret",
        ];
        if !extra.contains(&"--speed") {
            args.extend(["--speed", "max"]);
        }
        args.extend_from_slice(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_floorwatch-sim"))
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("ami-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        Switch { child, addr }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a read gave.
#[derive(Debug)]
pub(crate) enum Received {
    Message(AmiMessage),
    /// The switch closed the connection.
    Closed,
}

/// A manager client over TCP.
pub(crate) struct Client {
    stream: TcpStream,
    decoder: AmiDecoder,
    next_id: u64,
}

/// Longest a test waits for one message from the switch.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    pub(crate) async fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            decoder: AmiDecoder::new(),
            next_id: 0,
        }
    }

    pub(crate) fn banner(&self) -> Option<&str> {
        self.decoder.banner()
    }

    pub(crate) fn action_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    pub(crate) async fn send(&mut self, message: &AmiMessage) {
        self.stream
            .write_all(message.encode().as_bytes())
            .await
            .unwrap();
    }

    /// The next message, or `Closed`.
    pub(crate) async fn next(&mut self) -> Received {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(message) = self.decoder.next_message() {
                return Received::Message(message.expect("well-formed AMI from the switch"));
            }
            let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read(&mut buf))
                .await
                .expect("the switch went quiet")
                .unwrap_or(0);
            if n == 0 {
                return Received::Closed;
            }
            self.decoder.feed(&buf[..n]);
        }
    }

    pub(crate) async fn expect_message(&mut self) -> AmiMessage {
        match self.next().await {
            Received::Message(m) => m,
            Received::Closed => panic!("the switch closed the connection"),
        }
    }

    /// Logs in; returns the response (events that arrive first are returned too, in order).
    pub(crate) async fn login(
        &mut self,
        secret: &str,
        events: &str,
    ) -> (AmiMessage, Vec<AmiMessage>) {
        let id = self.action_id("login");
        self.send(&action::login("floorwatch", secret, events, &id))
            .await;
        self.reply_to(&id).await
    }

    /// Reads up to the response carrying `id`; returns it and the messages before it.
    pub(crate) async fn reply_to(&mut self, id: &str) -> (AmiMessage, Vec<AmiMessage>) {
        let mut before = Vec::new();
        loop {
            let m = self.expect_message().await;
            if m.response().is_some() && m.action_id() == Some(id) {
                return (m, before);
            }
            before.push(m);
        }
    }

    /// QueueStatus: the list (QueueParams, QueueMember, QueueEntry, QueueStatusComplete) and
    /// the other messages that came first.
    pub(crate) async fn queue_status(&mut self) -> (Vec<AmiMessage>, Vec<AmiMessage>) {
        let id = self.action_id("qs");
        self.send(&action::queue_status(&id)).await;
        let (response, mut before) = self.reply_to(&id).await;
        assert_eq!(response.response(), Some("Success"), "{response:?}");
        let mut list = Vec::new();
        loop {
            let m = self.expect_message().await;
            if m.action_id() == Some(id.as_str()) {
                let done = action::is_list_complete(&m);
                list.push(m);
                if done {
                    return (list, before);
                }
            } else {
                before.push(m);
            }
        }
    }

    /// The switch's clock, from a Ping (Asterisk 12+ answers with `Timestamp:`).
    pub(crate) async fn ping(&mut self) -> (Millis, Vec<AmiMessage>) {
        let id = self.action_id("ping");
        self.send(&action::ping(&id)).await;
        let (reply, before) = self.reply_to(&id).await;
        assert_eq!(reply.get("Ping"), Some("Pong"));
        let ts = reply.get("Timestamp").and_then(parse_timestamp).unwrap();
        (ts, before)
    }
}

/// `Timestamp:` (`1773000000.123000`) as UTC ms.
pub(crate) fn parse_timestamp(text: &str) -> Option<Millis> {
    let (secs, frac) = text.split_once('.')?;
    let frac = format!("{frac:0<3}");
    Some(secs.parse::<i64>().ok()? * 1000 + frac.get(..3)?.parse::<i64>().ok()?)
}

/// `SequenceNumber:` of an event.
pub(crate) fn sequence(message: &AmiMessage) -> Option<u64> {
    message.get("SequenceNumber")?.parse().ok()
}
