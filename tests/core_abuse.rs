//! The server probed as an attacker would (issue 8): a client flooding its event stream,
//! responses the application shapes oddly framed alike by both HTTP/1.1 writers, Host and
//! transfer-coding rules, the header timeout over h2c, and a seeded stream of generated
//! requests after which the server still answers.
//!
//! Every load here is bounded in time and count and targets 127.0.0.1 only.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::wire::{self, parse_framed, Framed, Unframed};
use support::*;

/// Sends `n` keep-alive GETs of /hello on one connection; requests per second.
fn hello_rate(srv: &TestServer, n: usize) -> f64 {
    let mut s = srv.connect();
    let mut buf = Vec::new();
    let start = Instant::now();
    for _ in 0..n {
        s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_response(&mut s, &mut buf, false).expect("a response while the flood runs");
        assert_eq!(r.status, 200);
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[test]
fn a_client_flooding_its_event_stream_does_not_starve_the_server() {
    let srv = TestServer::start(|_| {});
    let baseline = hello_rate(&srv, 2000);

    // The flooder opens an event stream, then streams bytes into it; when the server
    // closes the connection it opens another (bounded by the stop flag and a deadline).
    let stop = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(AtomicU64::new(0));
    let streams = Arc::new(AtomicU64::new(0));
    let addr = srv.addr();
    let flooder = {
        let (stop, pushed, streams) = (Arc::clone(&stop), Arc::clone(&pushed), Arc::clone(&streams));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let chunk = vec![b'x'; 65536];
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Ok(mut s) = TcpStream::connect(addr) else { continue };
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
                let req = b"GET /sse-idle HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
                if s.write_all(req).is_err() || s.read(&mut [0u8; 400]).unwrap_or(0) == 0 {
                    continue;
                }
                streams.fetch_add(1, Ordering::Relaxed);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match s.write(&chunk) {
                        Ok(n) => pushed.fetch_add(n as u64, Ordering::Relaxed),
                        Err(_) => break,
                    };
                }
            }
        })
    };
    // Let the flood start before measuring under it.
    let started = Instant::now();
    while pushed.load(Ordering::Relaxed) < 1 << 20 && started.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    let flooded = hello_rate(&srv, 2000);
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();

    let stats = srv.handle.stats();
    eprintln!(
        "hello: {baseline:.0} req/s alone, {flooded:.0} under the flood ({} MiB pushed over {} streams, {} cut)",
        pushed.load(Ordering::Relaxed) >> 20,
        streams.load(Ordering::Relaxed),
        stats.bad_requests
    );
    assert!(pushed.load(Ordering::Relaxed) >= 1 << 20, "the flood ran");
    assert!(stats.bad_requests >= 1, "flooding streams are cut: {stats:?}");
    // A starved server answers next to nothing while the flood runs. The bound leaves room
    // for this file's other tests, which run at the same time on as few as two CPUs (a
    // debug build in CI measured 0.21 once; alone, release builds measure 0.8–1.2).
    assert!(
        flooded >= baseline * 0.1,
        "a flooding client took the server: {flooded:.0} req/s against {baseline:.0} alone"
    );
}

/// Sends `raw` on a fresh connection, half-closes, and reads everything until EOF.
fn exchange(srv: &TestServer, raw: &[u8]) -> Vec<u8> {
    wire::exchange(srv.addr(), raw, true)
}

/// The writers of an HTTP/1.1 answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writer {
    /// `http::h1`, the default for plaintext HTTP/1.1.
    H1,
    /// hyper (`hyper_http1`).
    Hyper,
    /// The event-stream path (`Accept: text/event-stream`, alone on its connection).
    EventStream,
}

/// The one response to `GET path` from `writer`, strictly parsed, nothing after it.
fn framed(srv: &TestServer, path: &str, writer: Writer) -> Framed {
    let extra = match writer {
        Writer::EventStream => "Accept: text/event-stream\r\n",
        Writer::H1 | Writer::Hyper => "Connection: close\r\n",
    };
    let raw = wire::exchange(
        srv.addr(),
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes(),
        false,
    );
    // Which writer answered: ours end the head with `connection: close`, hyper with `date`
    // (it writes the headers it adds after the application's).
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |p| p + 4);
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    assert_eq!(
        head.ends_with("connection: close\r\n\r\n"),
        writer != Writer::Hyper,
        "{path}: not answered by {writer:?}: {head}"
    );
    let (f, next) = parse_framed(&raw, 0, false).unwrap_or_else(|e| panic!("{path} ({writer:?}): {e}"));
    assert_eq!(&raw[next..], b"", "{path} ({writer:?}): bytes after the response");
    f
}

#[test]
fn every_writer_frames_what_the_application_shapes_alike() {
    let srv = TestServer::start(|_| {});
    let hyper = TestServer::start(|c| c.hyper_http1 = true);
    let cases: &[(&str, u16, &str, &str)] = &[
        // (query, status, expected framing, expected body)
        ("status=204&data=abc", 204, "none", ""),
        ("status=304&data=abc", 304, "none", ""),
        ("status=204&body=stream&data=abc", 204, "none", ""),
        ("status=204&body=none", 204, "none", ""),
        ("status=204&body=none&cl=0", 204, "none", ""),
        ("status=200&te=1&data=hello", 200, "length", "hello"),
        ("status=200&cl=1&data=hello", 200, "length", "hello"),
        ("status=200&cl=99&data=hello", 200, "length", "hello"),
        ("status=200&body=stream&cl=1&data=hello", 200, "chunked", "hello"),
        ("status=200&body=stream&te=1&data=hello", 200, "chunked", "hello"),
        ("status=200&date=1&data=d", 200, "length", "d"),
        ("status=200&conn=keep-alive&data=k", 200, "length", "k"),
        ("status=404&body=none", 404, "length", ""),
        ("status=205&data=x", 205, "length", ""),
        ("status=205&body=stream&data=x", 205, "length", ""),
    ];
    for &(query, status, framing, body) in cases {
        let path = format!("/framing?{query}");
        let answers = [
            (framed(&srv, &path, Writer::H1), Writer::H1),
            (framed(&hyper, &path, Writer::Hyper), Writer::Hyper),
            (framed(&srv, &path, Writer::EventStream), Writer::EventStream),
        ];
        for (f, which) in &answers {
            assert_eq!(f.status, status, "{query} from {which:?}");
            assert_eq!(f.framing, framing, "{query} from {which:?}");
            assert_eq!(f.body, body.as_bytes(), "{query} from {which:?}");
            assert_eq!(f.dates, 1, "{query} from {which:?}: one Date");
        }
    }
}

#[test]
fn a_response_without_a_body_does_not_poison_the_next_on_keep_alive() {
    for hyper in [false, true] {
        no_poison(&TestServer::start(|c| c.hyper_http1 = hyper));
    }
}

fn no_poison(srv: &TestServer) {
    let mut s = srv.connect();
    let mut raw = Vec::new();
    for q in ["status=204&data=abc", "status=304&body=stream&data=abc", "status=200&data=next"] {
        raw.extend_from_slice(format!("GET /framing?{q} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    raw.extend_from_slice(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(&raw).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let mut at = 0;
    let mut seen = Vec::new();
    while at < out.len() {
        let (f, next) = parse_framed(&out, at, false).unwrap();
        seen.push((f.status, String::from_utf8(f.body).unwrap()));
        at = next;
    }
    let expected = [(204, ""), (304, ""), (200, "next"), (200, "Hello")];
    assert_eq!(seen, expected.map(|(s, b)| (s, b.to_owned())));
}

#[test]
fn the_host_header_is_required_once_and_valid_on_both_paths() {
    let srv = TestServer::start(|_| {});
    for path_and_accept in ["/hello HTTP/1.1\r\n", "/sse-idle HTTP/1.1\r\nAccept: text/event-stream\r\n"] {
        for (hosts, status) in
            [("", 400), ("Host: a\r\nHost: b\r\n", 400), ("Host: a b\r\n", 400), ("Host: a@b\r\n", 400)]
        {
            // Not half-closed: hyper may take the EOF for the client leaving and drop the 400.
            let raw =
                wire::exchange(srv.addr(), format!("GET {path_and_accept}{hosts}\r\n").as_bytes(), false);
            let (f, _) = parse_framed(&raw, 0, false).unwrap();
            assert_eq!(f.status, status, "GET {path_and_accept} with {hosts:?}");
        }
    }
    let raw = wire::exchange(srv.addr(), b"GET /hello HTTP/1.0\r\n\r\n", false);
    assert_eq!(parse_framed(&raw, 0, false).unwrap().0.status, 200, "HTTP/1.0 needs no Host");
    assert_eq!(srv.handle.stats().bad_requests, 8);
    assert!(
        !srv.seen.requests.lock().unwrap().iter().any(|r| r.contains("sse-idle")),
        "no refused request reached the application"
    );
}

#[test]
fn transfer_codings_other_than_one_chunked_are_refused() {
    let srv = TestServer::start(|_| {});
    for (te, status) in [("chunked", 200), ("chunked, chunked", 400), ("gzip, chunked", 501), ("gzip", 400)] {
        let raw = wire::exchange(
            srv.addr(),
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: {te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            )
            .as_bytes(),
            false,
        );
        let (f, _) = parse_framed(&raw, 0, false).unwrap();
        assert_eq!(f.status, status, "Transfer-Encoding: {te}");
    }
    assert_eq!(srv.seen.requests.lock().unwrap().len(), 1, "only the valid one reached the application");
}

/// A chunked body of `data` in chunks of `size` bytes, with its request head.
fn chunked_post(data: &[u8], size: usize) -> Vec<u8> {
    let mut raw =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in data.chunks(size) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    raw
}

/// The most a loopback TCP connection's kernel buffers hold: the receiver's and the
/// sender's largest autotuned buffers (`tcp_rmem`, `tcp_wmem`). A busy machine may close a
/// connection late enough for a client to fill them first.
fn socket_buffers_max() -> usize {
    let max = |sysctl: &str| {
        std::fs::read_to_string(sysctl)
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse::<usize>().ok())
            .unwrap_or(32 << 20)
    };
    max("/proc/sys/net/ipv4/tcp_rmem") + max("/proc/sys/net/ipv4/tcp_wmem")
}

#[test]
fn a_chunked_bodys_framing_cannot_outrun_its_data() {
    // hyper parses chunk-size lines byte by byte, and a line of zeros is valid and decodes
    // to nothing: without a cap the connection's thread parsed them until `body_timeout`.
    let srv = TestServer::start(|c| c.limits.body_timeout = Duration::from_secs(60));
    let mut s = srv.connect();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let zeros = vec![b'0'; 64 * 1024];
    // What the client may write with the cap working: the server's reads up to it (a MiB
    // and hyper's read-ahead), then what the kernel's buffers hold before the client learns
    // of the close. A server that parses the line on writes all it is given.
    let bound = (4 << 20) + socket_buffers_max();
    let (mut sent, start) = (0usize, Instant::now());
    while sent < bound + (16 << 20) && start.elapsed() < Duration::from_secs(20) {
        match s.write(&zeros) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(sent < bound, "the server took {} MiB of one chunk-size line", sent >> 20);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest); // closed (maybe reset) at once, not after the body timeout
    assert!(start.elapsed() < Duration::from_secs(15), "closed after {:?}", start.elapsed());
    assert!(srv.seen.requests.lock().unwrap().is_empty(), "no body, no request for the application");

    // Bodies in small chunks still pass: 8-byte chunks of 512 KiB, 1-byte chunks of 16 KiB.
    for (len, size) in [(512 * 1024, 8), (16 * 1024, 1)] {
        let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let raw = wire::exchange(srv.addr(), &chunked_post(&data, size), false);
        let (f, _) = parse_framed(&raw, 0, false).unwrap();
        assert_eq!(f.status, 200, "{len} bytes in chunks of {size}");
        assert_eq!(&f.body[..6], b"bytes:");
        assert_eq!(f.body[6..], data[..], "{len} bytes in chunks of {size}");
    }
    hello_rate(&srv, 10); // and the server serves on
}

#[test]
fn bodies_with_a_length_through_hyper_are_not_capped_as_chunked_ones_are() {
    // The framing cap is for bodies without a length: one with a length is its bytes on
    // the wire. Three MiB (past the cap's slack) with `Content-Length` through hyper, as
    // `hyper_http1` serves it, and as a multipart upload on the default path.
    // A POST of `body` to /echo with its length and `fields`; the answer, strictly parsed.
    let post = |srv: &TestServer, fields: &str, body: &[u8]| {
        let head = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{fields}Content-Length: {}\r\n\r\n",
            body.len()
        );
        let raw = [head.as_bytes(), body].concat();
        parse_framed(&wire::exchange(srv.addr(), &raw, false), 0, false).unwrap().0
    };
    let data: Vec<u8> = (0..3 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let f = post(&TestServer::start(|c| c.hyper_http1 = true), "", &data);
    assert_eq!(f.status, 200);
    assert_eq!(f.body.len(), 6 + data.len(), "the whole body");

    let boundary = "b0undary";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(&data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let fields = format!("Content-Type: multipart/form-data; boundary={boundary}\r\n");
    let f = post(&TestServer::start(|_| {}), &fields, &body);
    assert_eq!(f.status, 200);
    let text = String::from_utf8_lossy(&f.body);
    assert!(text.starts_with("multipart:file f=a.txt:abc"), "{}", &text[..text.len().min(80)]);
    assert_eq!(f.body.len(), "multipart:file f=a.txt:".len() + data.len() + 1, "the whole file");
}

/// How long until the server closes a connection that sent `raw` and nothing more.
fn closed_after(srv: &TestServer, raw: &[u8]) -> Duration {
    let mut s = srv.connect();
    s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    s.write_all(raw).unwrap();
    let start = Instant::now();
    let mut tmp = [0u8; 1024];
    loop {
        match s.read(&mut tmp) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return Duration::MAX
            }
            Err(_) => return start.elapsed(),
        }
    }
}

/// Without h2c sniffing too, a new HTTP/1.1 connection must start its request within the
/// header timeout (not the longer keep-alive timeout), on both HTTP/1.1 paths.
#[test]
fn silent_http1_connections_are_held_to_the_header_timeout() {
    for hyper_http1 in [false, true] {
        let srv = TestServer::start(|c| {
            c.h2c = false;
            c.hyper_http1 = hyper_http1;
            c.limits.header_timeout = Duration::from_millis(300);
            c.limits.keepalive_timeout = Duration::from_secs(30);
        });
        let waited = closed_after(&srv, b"");
        assert!(waited < Duration::from_secs(3), "hyper_http1 {hyper_http1}: closed after {waited:?}");
        assert_eq!(srv.handle.stats().header_timeouts, 1, "hyper_http1 {hyper_http1}");
    }
}

#[test]
fn h2c_connections_without_a_request_are_held_to_the_header_timeout() {
    let srv = TestServer::start(|c| {
        c.h2c = true;
        c.limits.header_timeout = Duration::from_millis(300);
        c.limits.keepalive_timeout = Duration::from_secs(60);
    });
    let preface = via::http::conn::H2_PREFACE;
    let settings = [0u8, 0, 0, 4, 0, 0, 0, 0, 0];
    let mut only_preface = preface.to_vec();
    only_preface.extend_from_slice(&settings);
    // HEADERS (type 1) on stream 1 with END_STREAM but not END_HEADERS, one HPACK byte
    // (:method GET), and no CONTINUATION ever.
    let mut open_headers = only_preface.clone();
    open_headers.extend_from_slice(&[0, 0, 1, 1, 0x01, 0, 0, 0, 1, 0x82]);
    for (raw, what) in [(&only_preface, "only the preface"), (&open_headers, "HEADERS without END_HEADERS")] {
        let took = closed_after(&srv, raw);
        assert!(took < Duration::from_secs(4), "{what}: kept {took:?}, header timeout is 300 ms");
    }
    assert!(srv.handle.stats().header_timeouts >= 2);
}

/// A small deterministic generator (xorshift), so a failure is reproducible by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
}

/// A request that is valid, nearly valid, or garbage, for one of the server's paths.
fn generated_request(rng: &mut Rng) -> Vec<u8> {
    // No HEAD among them: a HEAD answer's length describes a body that is not there, so
    // reading pipelined answers needs to know which one it was; only the first may be HEAD.
    let methods = ["GET", "POST", "PUT", "DELETE", "QUERY", "G\0T", "", "GET GET", "get"];
    let targets = [
        "/hello",
        "/echo",
        "/sse-idle",
        "/sse?n=2&ms=1",
        "/framing?status=204&data=x",
        "/framing?status=304&body=stream&data=x",
        "/framing?status=200&te=1&data=x",
        "/framing?status=200&body=stream&cl=1&data=xyz",
        "/framing?date=1",
        "/big",
        "*",
        "http://a/hello",
        "/%00",
        "/\u{7f}",
        "",
    ];
    let versions = ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 ", "HTTP/9.9", "http/1.1"];
    let headers = [
        "Host: x",
        "Host: x",
        "Host: x",
        "Host: y",
        "Host: a b",
        "Accept: text/event-stream",
        "Accept: text/event-stream",
        "Accept-Encoding: br",
        "Accept-Encoding: gzip;q=0.5, br;q=0",
        "Content-Length: 3",
        "Content-Length: -1",
        "Content-Length: 3, 4",
        "Content-Length: 99999999999999999999",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: gzip, chunked",
        "Connection: close",
        "Connection: keep-alive",
        "Connection: upgrade",
        "Upgrade: h2c",
        "Expect: 100-continue",
        "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Bad Header: x",
        ": empty",
        "X-Nul: a\0b",
        "X-Fold: a\r\n b",
        "Cookie: a=b; c=d",
    ];
    let bodies = ["", "abc", "3\r\nabc\r\n0\r\n\r\n", "zz\r\n", "0\r\n\r\n", "1;\0=x\r\na\r\n0\r\n\r\n"];
    let mut out = Vec::new();
    let requests = 1 + rng.below(3);
    for _ in 0..requests {
        let eol: &str = if rng.below(10) == 0 { "\n" } else { "\r\n" };
        let method = if out.is_empty() && rng.below(8) == 0 { "HEAD" } else { rng.pick(&methods) };
        out.extend_from_slice(
            format!("{method} {} {}{eol}", rng.pick(&targets), rng.pick(&versions)).as_bytes(),
        );
        for _ in 0..rng.below(6) {
            out.extend_from_slice(rng.pick(&headers).as_bytes());
            out.extend_from_slice(eol.as_bytes());
        }
        out.extend_from_slice(eol.as_bytes());
        out.extend_from_slice(rng.pick(&bodies).as_bytes());
    }
    // Now and then, damage a byte or cut the request short.
    if !out.is_empty() && rng.below(4) == 0 {
        let at = rng.below(out.len());
        out[at] = rng.next() as u8;
    }
    if !out.is_empty() && rng.below(6) == 0 {
        let keep = rng.below(out.len());
        out.truncate(keep);
    }
    out
}

#[test]
fn generated_requests_get_well_framed_answers_and_the_server_keeps_serving() {
    generated_requests(false);
}

#[test]
fn generated_requests_get_well_framed_answers_from_hyper_alone_too() {
    generated_requests(true);
}

fn generated_requests(hyper_http1: bool) {
    const SEED: u64 = 0x5eed_0008;
    const REQUESTS: usize = 3000;
    let srv = TestServer::start(|c| {
        c.hyper_http1 = hyper_http1;
        c.limits.header_timeout = Duration::from_millis(500);
        c.limits.body_timeout = Duration::from_millis(500);
        c.limits.request_timeout = Some(Duration::from_secs(2));
    });
    let srv = Arc::new(srv);
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (srv, failures) = (Arc::clone(&srv), Arc::clone(&failures));
            std::thread::spawn(move || {
                let mut rng = Rng(SEED + t);
                for i in 0..REQUESTS / 4 {
                    let raw = generated_request(&mut rng);
                    let out = exchange(&srv, &raw);
                    // Only the first request may be a HEAD (see `generated_request`); its
                    // answer is the first final (non-1xx) response.
                    let mut head_pending = raw.starts_with(b"HEAD ");
                    let mut at = 0;
                    while at < out.len() {
                        match parse_framed(&out, at, head_pending) {
                            Ok((f, next)) => {
                                head_pending &= f.status < 200;
                                at = next;
                            }
                            // A streamed answer whose connection closed: nothing follows it.
                            Err(Unframed::Cut(_)) => break,
                            Err(e) => {
                                failures.lock().unwrap().push(format!(
                                    "thread {t} request {i}: {e}\nsent: {:?}\ngot: {:?}",
                                    String::from_utf8_lossy(&raw),
                                    String::from_utf8_lossy(&out[at..out.len().min(at + 400)])
                                ));
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread");
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{} badly framed answers, first:\n{}", failures.len(), failures[0]);
    let mut s = srv.connect();
    let r = roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").expect("still serving");
    assert_eq!((r.status, r.text().as_str()), (200, "Hello"));
}
