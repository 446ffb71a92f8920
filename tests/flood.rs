//! End-to-end: a client flooding its event stream's socket, next to a client of PHP
//! requests. Alone in its binary: cargo runs test binaries one after another, so no other
//! test shares the CPUs with the flood and the rates compare the server with itself. Needs
//! what `e2e.rs` needs; run by scripts/test.sh.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::php::PhpServer;

const APP: &str = "tests/apps/e2e.php";

fn hello_rate(srv: &PhpServer, n: usize) -> f64 {
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = std::io::BufReader::new(s.try_clone().unwrap());
    let start = Instant::now();
    for _ in 0..n {
        s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut line = String::new();
        let mut length = 0;
        loop {
            line.clear();
            std::io::BufRead::read_line(&mut reader, &mut line).expect("an answer while the flood runs");
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Issue 8, D1: one client streaming bytes into an event stream's socket once stopped
/// the whole server. Now its connection is cut and everybody else is served.
#[test]
fn a_client_flooding_its_event_stream_does_not_starve_php_clients() {
    let srv = PhpServer::start(APP, "{}");
    let baseline = hello_rate(&srv, 3000);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let port = srv.port;
    let flooder = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let chunk = vec![b'x'; 65536];
            let mut pushed = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { continue };
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
                let req = b"GET /room HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
                if s.write_all(req).is_err() || s.read(&mut [0u8; 400]).unwrap_or(0) == 0 {
                    continue;
                }
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                    match s.write(&chunk) {
                        Ok(n) => pushed += n as u64,
                        Err(_) => break,
                    }
                }
            }
            pushed
        })
    };
    let flooded = hello_rate(&srv, 3000);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let pushed = flooder.join().unwrap();
    eprintln!("hello: {baseline:.0} req/s alone, {flooded:.0} under the flood of {} MiB", pushed >> 20);
    assert!(pushed > 0, "the flood ran");
    assert!(srv.stats()["bad_requests"].as_u64().unwrap() >= 1, "flooding streams are cut");
    // Starved, it was 0.04 of the baseline. Alone on the machine (this binary's only test)
    // the flooded rate is mostly 10–12k req/s here while the baseline, one request at a
    // time to a server that sleeps between them, moves between 10k and 25k with how fast
    // an idle CPU wakes: 0.4–2.2 of it over two dozen runs. Among the other end-to-end
    // tests, on two CPUs, it moved between 0.1 and 0.9. The bar sits above starvation and
    // below that spread.
    assert!(flooded >= baseline * 0.12, "{flooded:.0} req/s under the flood against {baseline:.0}");
}
