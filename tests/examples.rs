//! The examples run and do what their header says (a real php process, real sockets).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::php::{run, PhpServer};

fn curl(args: &[&str]) -> String {
    let (ok, out, err) = run("curl", &[&["-sS", "--max-time", "10"], args].concat());
    assert!(ok, "{err}");
    out
}

#[test]
fn demo_serves_page_action_upload_stats_and_a_live_stream() {
    let srv = PhpServer::start("examples/demo.php", "{}");
    assert!(curl(&[&srv.url("/")]).contains("<h1>via</h1>"));
    let inc = |step: u32| {
        curl(&[
            "-H",
            "Content-Type: application/json",
            "--data",
            &format!("{{\"step\":{step}}}"),
            &srv.url("/increment"),
        ])
    };
    assert_eq!(inc(1), r#"{"count":1}"#);
    assert_eq!(inc(5), r#"{"count":6}"#);
    let up = curl(&["-F", "file=@Cargo.toml", "-F", "note=hi", &srv.url("/upload")]);
    assert!(up.contains("\"name\": \"Cargo.toml\"") && up.contains("\"note\": \"hi\""), "{up}");
    assert!(curl(&[&srv.url("/stats")]).contains("\"requests\""));
    assert!(curl(&["-o", "/dev/null", "-w", "%{http_code}", &srv.url("/nope")]).contains("404"));

    // The clock stream: two ticks arrive a second apart while the server keeps serving.
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /clock HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    while seen.matches("event: tick").count() < 2 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        assert_eq!(inc(0), r#"{"count":6}"#, "other requests are served while the stream is open");
    }
    assert!(seen.contains("content-type: text/event-stream"), "{seen}");
}
