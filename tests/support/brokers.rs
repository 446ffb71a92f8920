//! Real Redis and NATS servers for tests: started on a free loopback port, killed and
//! restarted on the same port, stopped when dropped.
//!
//! `redis-server` and `nats-server` come from Debian (`scripts/deps.sh test`).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Redis,
    Nats,
}

pub struct BrokerServer {
    kind: Kind,
    pub port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl BrokerServer {
    /// Starts a server; `auth` is a password (Redis `requirepass`, NATS `--user via --pass`).
    pub fn start(kind: Kind, auth: Option<&str>) -> Self {
        let port = free_port();
        let mut args: Vec<String> = match kind {
            Kind::Redis => {
                ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }
            Kind::Nats => {
                ["-a", "127.0.0.1", "-p", &port.to_string()].iter().map(|s| s.to_string()).collect()
            }
        };
        if let Some(pass) = auth {
            match kind {
                Kind::Redis => args.extend(["--requirepass".to_string(), pass.to_string()]),
                Kind::Nats => args.extend(["--user", "via", "--pass", pass].map(String::from)),
            }
        }
        let mut server = Self { kind, port, args, child: None };
        server.restart();
        server
    }

    /// Starts a server that speaks TLS only, with `cert` and `key` (PEM files).
    pub fn start_tls(kind: Kind, cert: &std::path::Path, key: &std::path::Path) -> Self {
        let port = free_port();
        let (cert, key) = (cert.display().to_string(), key.display().to_string());
        let p = port.to_string();
        let args: Vec<String> = match kind {
            Kind::Redis => [
                "--port",
                "0",
                "--tls-port",
                &p,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-auth-clients",
                "no",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            Kind::Nats => ["-a", "127.0.0.1", "-p", &p, "--tls", "--tlscert", &cert, "--tlskey", &key]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let mut server = Self { kind, port, args, child: None };
        server.restart();
        server
    }

    fn program(&self) -> &'static str {
        match self.kind {
            Kind::Redis => "redis-server",
            Kind::Nats => "nats-server",
        }
    }

    /// Starts (again) on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(self.program())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {} (scripts/deps.sh test installs it): {e}", self.program())
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{} did not listen on {}", self.program(), self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for BrokerServer {
    fn drop(&mut self) {
        self.kill();
    }
}
