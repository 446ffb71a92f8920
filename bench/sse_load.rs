//! The client of the SSE fan-out benchmark (bench/sse.py drives it).
//!
//! Opens N event streams (`GET /events`, HTTP/1.1, no compression), waits until the server
//! counts N subscribers (`GET /count`), prints `ready` and waits for a line on stdin (the
//! driver reads the server's memory meanwhile). Then, for each round R, it notes the time,
//! requests `GET /publish?round=R<publish_query>` on a separate connection and waits until
//! every stream has seen `data: R`. Prints one JSON line: per round the time until the last
//! stream had the event (p50/p99 over rounds) and per delivery the time until one stream
//! had it (p50/p99 over all streams and rounds), in milliseconds.
//!
//! `SSE_DIALECT=osw` speaks to `../shared/anchors/osw_app.php` instead: streams on
//! `GET /sse`, the count from `GET /stats` (`"conns"`), a round published by
//! `POST /broadcast?seq=R` (`"sent"`), its event recognised by `"seq":R`.
//!
//! Usage: sse_load <port> <streams> <rounds> [publish_query]

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

struct Shared {
    base: Instant,
    /// Per round: when its publish request was sent (ns since `base`), 0 = not yet.
    started: Vec<AtomicU64>,
    delivered: Vec<AtomicUsize>,
    /// Per round: the latest delivery (ns after its start).
    last: Vec<AtomicU64>,
    latencies: Mutex<Vec<u64>>,
    round_done: Notify,
    connected: AtomicUsize,
    all_connected: Notify,
    streams: usize,
}

/// A stream that fails ends the run at once (a panic in a task would only end the task).
fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("sse_load: {what}: {err}");
    std::process::exit(1)
}

/// The routes and formats of the server under test.
struct Dialect {
    events: &'static [u8],
    /// What precedes a round's number in an event.
    marker: &'static [u8],
    osw: bool,
}

fn dialect() -> Dialect {
    if std::env::var("SSE_DIALECT").as_deref() == Ok("osw") {
        Dialect {
            events: b"GET /sse HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n",
            marker: b"\"seq\":",
            osw: true,
        }
    } else {
        Dialect {
            events: b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n",
            marker: b"data: ",
            osw: false,
        }
    }
}

/// The number right after `key` in a JSON body (`"conns":`, `"sent":`).
fn json_number(body: &str, key: &str) -> usize {
    let at = body.find(key).map(|i| i + key.len()).unwrap_or(body.len());
    body[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One event stream: reads the response head, then every `data: R` line it sees.
async fn stream(addr: SocketAddr, shared: Arc<Shared>, gate: Arc<Semaphore>) {
    let permit = gate.acquire_owned().await.expect("semaphore");
    let mut tcp = TcpStream::connect(addr).await.unwrap_or_else(|e| fail("connect (ulimit -n?)", e));
    tcp.set_nodelay(true).ok();
    let dialect = dialect();
    tcp.write_all(dialect.events).await.unwrap_or_else(|e| fail("write request", e));
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = tcp.read(&mut chunk).await.unwrap_or_else(|e| fail("read response head", e));
        if n == 0 {
            fail("read response head", "the server closed the connection");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
    };
    if !buf.starts_with(b"HTTP/1.1 200") {
        fail("response", String::from_utf8_lossy(&buf[..head_end]));
    }
    buf.drain(..head_end);
    drop(permit);
    if shared.connected.fetch_add(1, Ordering::AcqRel) + 1 == shared.streams {
        shared.all_connected.notify_one();
    }
    let mut local = Vec::new();
    loop {
        // Events look like "data: R\n" inside chunked framing; a line may span reads.
        while let Some(i) = find(&buf, dialect.marker) {
            let Some(end) = buf[i..].iter().position(|&b| b == b'\n') else { break };
            let round: usize = std::str::from_utf8(&buf[i + dialect.marker.len()..i + end])
                .ok()
                .and_then(|s| s.trim().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
                .unwrap_or(0);
            buf.drain(..i + end + 1);
            if round == 0 || round > shared.started.len() {
                continue;
            }
            let now = shared.base.elapsed().as_nanos() as u64;
            let start = shared.started[round - 1].load(Ordering::Acquire);
            let latency = now.saturating_sub(start);
            local.push(latency);
            shared.last[round - 1].fetch_max(latency, Ordering::AcqRel);
            if shared.delivered[round - 1].fetch_add(1, Ordering::AcqRel) + 1 == shared.streams {
                shared.latencies.lock().append(&mut local);
                shared.round_done.notify_one();
            }
        }
        if !local.is_empty() {
            shared.latencies.lock().append(&mut local);
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            let keep = buf.len() - 64;
            buf.drain(..keep);
        }
    }
}

/// A keep-alive HTTP/1.1 client for the control requests.
struct Control {
    tcp: TcpStream,
}

impl Control {
    async fn get(&mut self, path: &str) -> String {
        self.request("GET", path).await
    }

    async fn request(&mut self, method: &str, path: &str) -> String {
        let req = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n");
        self.tcp.write_all(req.as_bytes()).await.expect("control write");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = self.tcp.read(&mut chunk).await.expect("control read");
            assert!(n > 0, "control connection closed");
            buf.extend_from_slice(&chunk[..n]);
            let Some(h) = find(&buf, b"\r\n\r\n") else { continue };
            let head = String::from_utf8_lossy(&buf[..h]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            if buf.len() >= h + 4 + len {
                return String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).into_owned();
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|v| v.parse().ok()).expect("port");
    let streams: usize = args.next().and_then(|v| v.parse().ok()).expect("streams");
    let rounds: usize = args.next().and_then(|v| v.parse().ok()).expect("rounds");
    let query = args.next().unwrap_or_default();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let shared = Arc::new(Shared {
        base: Instant::now(),
        started: (0..rounds).map(|_| AtomicU64::new(0)).collect(),
        delivered: (0..rounds).map(|_| AtomicUsize::new(0)).collect(),
        last: (0..rounds).map(|_| AtomicU64::new(0)).collect(),
        latencies: Mutex::new(Vec::with_capacity(streams * rounds)),
        round_done: Notify::new(),
        connected: AtomicUsize::new(0),
        all_connected: Notify::new(),
        streams,
    });
    rt.block_on(async move {
        let t = Instant::now();
        let gate = Arc::new(Semaphore::new(256));
        for _ in 0..streams {
            tokio::spawn(stream(addr, Arc::clone(&shared), Arc::clone(&gate)));
        }
        tokio::time::timeout(Duration::from_secs(120), shared.all_connected.notified())
            .await
            .expect("every stream connected within 120 s");
        let mut control = Control { tcp: TcpStream::connect(addr).await.expect("control connect") };
        control.tcp.set_nodelay(true).ok();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let count: usize = if dialect().osw {
                json_number(&control.get("/stats").await, "\"conns\":")
            } else {
                control.get("/count").await.trim().parse().expect("count")
            };
            if count >= streams {
                break;
            }
            assert!(Instant::now() < deadline, "server counts {count} of {streams} streams");
            tokio::time::sleep(Duration::from_millis(20)).await; // polling the server's count
        }
        let connect_ms = t.elapsed().as_secs_f64() * 1e3;
        println!("ready");
        let mut line = String::new();
        tokio::task::spawn_blocking(move || std::io::stdin().lock().read_line(&mut line))
            .await
            .expect("stdin")
            .expect("stdin line");

        let mut completions = Vec::with_capacity(rounds);
        for r in 1..=rounds {
            let start = shared.base.elapsed().as_nanos() as u64;
            shared.started[r - 1].store(start.max(1), Ordering::Release);
            let reached: usize = if dialect().osw {
                json_number(&control.request("POST", &format!("/broadcast?seq={r}")).await, "\"sent\":")
            } else {
                control
                    .get(&format!("/publish?round={r}{query}"))
                    .await
                    .trim()
                    .parse()
                    .expect("publish count")
            };
            assert_eq!(reached, streams, "publish reached {reached} of {streams} streams");
            while shared.delivered[r - 1].load(Ordering::Acquire) < streams {
                tokio::time::timeout(Duration::from_secs(30), shared.round_done.notified())
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "round {r}: {} of {streams} streams got the event",
                            shared.delivered[r - 1].load(Ordering::Acquire)
                        )
                    });
            }
            completions.push(shared.last[r - 1].load(Ordering::Acquire));
        }
        completions.sort_unstable();
        let mut all = std::mem::take(&mut *shared.latencies.lock());
        all.sort_unstable();
        println!(
            "{{\"streams\":{streams},\"rounds\":{rounds},\"connect_ms\":{connect_ms:.1},\
             \"complete_p50_ms\":{:.3},\"complete_p99_ms\":{:.3},\
             \"delivery_p50_ms\":{:.3},\"delivery_p99_ms\":{:.3},\"deliveries\":{}}}",
            percentile(&completions, 0.5),
            percentile(&completions, 0.99),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.len()
        );
    });
}
