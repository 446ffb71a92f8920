//! A real browser: headless Chromium opens an EventSource over HTTPS/HTTP2 with a
//! self-signed certificate and Brotli, receives events across heartbeats, and closing the
//! page runs onClose on the server. Chromium is driven over the DevTools protocol on a
//! pipe (--remote-debugging-pipe): no extra tooling.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::php::{run, PhpServer};

struct Chrome {
    child: Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array; pipe2 fills it on success.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both were just created and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Chrome {
    fn launch() -> Self {
        let profile = tempfile::tempdir().unwrap();
        let (to_chrome_r, to_chrome_w) = pipe();
        let (from_chrome_r, from_chrome_w) = pipe();
        let (cr, cw) = (to_chrome_r.as_raw_fd(), from_chrome_w.as_raw_fd());
        let mut cmd = Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--ignore-certificate-errors",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only dup2 (async-signal-safe) between fork and exec, on descriptors
        // that stay open in the parent until the child has started.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(cr, 3) < 0 || libc::dup2(cw, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium runs (apt install chromium)");
        drop((to_chrome_r, from_chrome_w));
        let (tx, rx) = mpsc::channel();
        let reader = std::fs::File::from(from_chrome_r);
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).unwrap_or(0) > 0 {
                buf.pop();
                if let Ok(v) = serde_json::from_slice(&buf) {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
                buf.clear();
            }
        });
        Self { child, to: std::fs::File::from(to_chrome_w), from: rx, next_id: 1, _profile: profile }
    }

    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self.from.recv_timeout(left).unwrap_or_else(|_| panic!("no answer to {method}"));
            if v["id"] == json!(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chromium_event_source_over_https_h2_brotli_and_close_runs_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let opts = json!({"tls_cert": cert, "tls_key": key}).to_string();
    let srv = PhpServer::start("tests/apps/browser.php", &opts);
    let url = format!("https://127.0.0.1:{}/", srv.port);

    let mut chrome = Chrome::launch();
    let target = chrome.call("Target.createTarget", json!({"url": url}), None)["targetId"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = chrome.call("Target.attachToTarget", json!({"targetId": target, "flatten": true}), None)
        ["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();

    let deadline = Instant::now() + Duration::from_secs(20);
    let state = loop {
        let r = chrome.call(
            "Runtime.evaluate",
            json!({"expression": "JSON.stringify({got: window.received || [], errors: window.errors, proto: (performance.getEntriesByType('navigation')[0] || {}).nextHopProtocol})", "returnByValue": true}),
            Some(&session),
        );
        let state: Value =
            serde_json::from_str(r["result"]["value"].as_str().unwrap_or("{}")).unwrap_or(json!({}));
        if state["got"].as_array().is_some_and(|g| g.len() >= 2) {
            break state;
        }
        assert!(Instant::now() < deadline, "events did not arrive: {state}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(state["got"], json!(["first", "second"]), "both events, across heartbeats");
    assert_eq!(state["errors"], json!(0), "the stream never broke (a corrupt Brotli stream would)");
    assert_eq!(state["proto"], json!("h2"), "the page came over HTTP/2");

    chrome.call("Target.closeTarget", json!({"targetId": target}), None);
    let (ok, out, err) =
        run("curl", &["-sk", "--max-time", "15", &format!("https://127.0.0.1:{}/closed", srv.port)]);
    assert!(ok, "{err}");
    let info: Value = serde_json::from_str(out.trim().trim_matches('"').replace("\\\"", "\"").as_str())
        .unwrap_or(json!(out));
    assert_eq!(info["encoding"], "br", "{out}");
    assert_eq!(info["protocol"], "2", "{out}");
}
