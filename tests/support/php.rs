//! Spawns a real `php` process with the built via.so and reads the port it listens on.
#![allow(dead_code)] // each test binary uses a different part of the support code

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The extension under test: $VIA_SO, else target/release/libvia.so.
pub fn extension() -> PathBuf {
    let path = std::env::var_os("VIA_SO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/libvia.so"));
    assert!(
        path.exists(),
        "{} is missing: run `scripts/build.sh` (or `cargo build --release`) first, or set VIA_SO",
        path.display()
    );
    path
}

pub struct PhpServer {
    pub child: Child,
    pub port: u16,
    /// stderr lines after the "listening" line, collected by a reader thread.
    pub log: mpsc::Receiver<String>,
    stdout: Option<std::process::ChildStdout>,
}

impl PhpServer {
    /// Starts `script` (relative to the repository) with VIA_TEST_OPTIONS=`options_json`.
    pub fn start(script: &str, options_json: &str) -> Self {
        Self::start_with_env(script, options_json, &[])
    }

    /// `start` with more environment variables.
    pub fn start_with_env(script: &str, options_json: &str, env: &[(&str, &str)]) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("php")
            .arg("-n")
            .arg("-d")
            .arg(format!("extension={}", extension().display()))
            .arg(root.join(script))
            .envs(env.iter().copied())
            .env("VIA_TEST_OPTIONS", options_json)
            .env("VIA_PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("php runs");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let port = loop {
            let line = rx.recv_timeout(Duration::from_secs(15)).expect("server logs its address");
            let rest = line.split("listening on ").nth(1).and_then(|r| r.split_once("://")).map(|(_, r)| r);
            if let Some(rest) = rest {
                let addr = rest.split_whitespace().next().unwrap();
                break addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        };
        let stdout = child.stdout.take();
        Self { child, port, log: rx, stdout }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The JSON the test apps answer on `/stats` (`Server::stats()`).
    pub fn stats(&self) -> serde_json::Value {
        let (_, out, _) = run("curl", &["-sS", "--max-time", "20", &self.url("/stats")]);
        serde_json::from_str(&out).expect("stats JSON")
    }

    /// Waits until `Server::stats()[name]` reaches `n` (asked again while the server
    /// answers something else, e.g. a 503 at its connection limit).
    pub fn wait_stat(&self, name: &str, n: u64, within: Duration) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let (_, out, _) = run("curl", &["-sS", "--max-time", "5", &self.url("/stats")]);
            let got = serde_json::from_str::<serde_json::Value>(&out).ok().and_then(|v| v[name].as_u64());
            if got.is_some_and(|v| v >= n) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{name} stayed at {got:?}, below {n}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the process to exit; returns its exit code and stdout.
    pub fn wait(mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut out = String::new();
                if let Some(mut s) = self.stdout.take() {
                    use std::io::Read;
                    let _ = s.read_to_string(&mut out);
                }
                return (status.code(), out);
            }
            if std::time::Instant::now() >= deadline {
                panic!("php did not exit in {within:?}; its log:\n{}", self.log_lines().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Log lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }
}

impl Drop for PhpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command, returns (exit status success, stdout, stderr).
pub fn run(cmd: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd} runs: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
