//! A real HTTP load balancer in front of cluster nodes (issue 16 item 5, docs/CLUSTER.md
//! "Clients move"): Debian's `haproxy` on 127.0.0.1, killed on drop.
//!
//! The balancer sends every request and websocket to the first node while its `/healthz`
//! answers 200, and to the next one listed once it stops answering (`backup` servers), so a
//! test knows which node a wallboard is on and can kill exactly that one. Health checks run
//! every 200 ms and a node counts as down after two failures, so a move takes under a second;
//! a websocket is a tunnel that lives as long as both ends (`timeout tunnel`).
//!
//! `./scripts/setup --for-tests` installs the package.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::nats::free_port;

/// How long a starting balancer may take to accept connections.
pub const BALANCER_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// `haproxy` in front of some nodes. Killed (SIGKILL) on drop.
pub struct Balancer {
    /// Holds the configuration; removed on drop.
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Balancer {
    /// Starts a balancer on a free port of 127.0.0.1 in front of `nodes` (each
    /// `http://127.0.0.1:PORT`), in that order of preference.
    pub fn start(nodes: &[&str]) -> Balancer {
        assert!(!nodes.is_empty(), "a balancer needs a node behind it");
        let dir = tempfile::Builder::new()
            .prefix("floorwatch-balancer-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir for haproxy: {e}"));
        let port = free_port();
        let servers = nodes
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let addr = url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string();
                let backup = if i == 0 { "" } else { " backup" };
                format!("    server node{i} {addr} check inter 200ms fall 2 rise 2{backup}\n")
            })
            .collect::<String>();
        let config = format!(
            "global\n    maxconn 4096\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
             timeout server 60s\n    timeout tunnel 1h\n    option redispatch\n    retries 2\n\
             frontend wall\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
             backend nodes\n    option httpchk GET /healthz\n    http-check expect status 200\n\
             {servers}"
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        let child = Command::new(crate::installed("haproxy"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting haproxy: {e}"));
        let balancer = Balancer {
            dir,
            port,
            child: Some(child),
        };
        let deadline = Instant::now() + BALANCER_READY_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                panic!("haproxy did not listen on 127.0.0.1:{port} in time");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        balancer
    }

    /// `http://127.0.0.1:PORT`: where a browser opens the wallboard.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The directory holding the configuration.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
