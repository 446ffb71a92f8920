//! Event streams and compression over real sockets: framing, flush-per-event under br and
//! gzip (decoded incrementally), heartbeats, disconnect detection on h1 and h2, topics and
//! backpressure, and compression of whole responses.
//!
//! HTTP/1.1 stream tests run twice: through hyper (no `Accept: text/event-stream`) and
//! through the hyper-free event-stream path (`stream_conn`, taken for plain event-stream
//! GETs); the head tells them apart (`connection: close` on the latter).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use support::*;
use via::config::Backpressure;
use via::http::StreamEvent;

/// Reads a chunked HTTP/1.1 response one chunk at a time.
struct Chunks {
    s: TcpStream,
    buf: Vec<u8>,
    pub head: String,
}

impl Chunks {
    fn get(srv: &TestServer, path: &str, extra_headers: &str) -> Self {
        Self::get_on(srv.connect(), path, extra_headers)
    }

    /// `get` on a connection of the caller's.
    fn get_on(mut s: TcpStream, path: &str, extra_headers: &str) -> Self {
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{extra_headers}\r\n").unwrap();
        let mut c = Self { s, buf: Vec::new(), head: String::new() };
        while !c.buf.windows(4).any(|w| w == b"\r\n\r\n") {
            c.fill();
        }
        let end = c.buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        c.head = String::from_utf8_lossy(&c.buf[..end]).to_lowercase();
        c.buf.drain(..end);
        c
    }

    fn fill(&mut self) -> usize {
        let mut tmp = [0u8; 8192];
        let n = self.s.read(&mut tmp).unwrap_or(0);
        self.buf.extend_from_slice(&tmp[..n]);
        n
    }

    /// The next chunk's data; `None` at the terminating chunk or EOF.
    fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let size =
                    usize::from_str_radix(std::str::from_utf8(&self.buf[..pos]).unwrap().trim(), 16).unwrap();
                if size == 0 {
                    return None;
                }
                while self.buf.len() < pos + 2 + size + 2 {
                    if self.fill() == 0 {
                        return None;
                    }
                }
                let data = self.buf[pos + 2..pos + 2 + size].to_vec();
                self.buf.drain(..pos + 2 + size + 2);
                return Some(data);
            }
            if self.fill() == 0 {
                return None;
            }
        }
    }
}

/// Decodes a compressed stream as it arrives.
enum Decoder {
    Br(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    None(Vec<u8>),
}

impl Decoder {
    fn new(head: &str) -> Self {
        if head.contains("content-encoding: br") {
            Self::Br(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096)))
        } else if head.contains("content-encoding: gzip") {
            Self::Gzip(flate2::write::GzDecoder::new(Vec::new()))
        } else {
            Self::None(Vec::new())
        }
    }

    /// Feeds compressed bytes; returns everything decoded so far.
    fn feed(&mut self, data: &[u8]) -> String {
        match self {
            Self::Br(d) => {
                d.write_all(data).unwrap();
                d.flush().unwrap();
                String::from_utf8_lossy(d.get_ref()).into_owned()
            }
            Self::Gzip(d) => {
                d.write_all(data).unwrap();
                d.flush().unwrap();
                String::from_utf8_lossy(d.get_ref()).into_owned()
            }
            Self::None(v) => {
                v.extend_from_slice(data);
                String::from_utf8_lossy(v).into_owned()
            }
        }
    }
}

/// Each event must be readable as soon as it is sent: with events 150 ms apart, event i
/// decodes before event i+1 exists.
/// Extra request headers for the path under test, and a check that it was taken.
fn path_headers(fast: bool) -> &'static str {
    if fast {
        "Accept: text/event-stream\r\n"
    } else {
        ""
    }
}

fn assert_path(head: &str, fast: bool) {
    assert_eq!(head.contains("connection: close"), fast, "served by the expected path: {head}");
}

fn events_arrive_one_by_one(accept: &str, expect_coding: &str, fast: bool) {
    let srv = TestServer::start(|_| {});
    let mut c =
        Chunks::get(&srv, "/sse?n=4&ms=150", &format!("Accept-Encoding: {accept}\r\n{}", path_headers(fast)));
    assert_path(&c.head, fast);
    assert!(c.head.contains("content-type: text/event-stream"), "{}", c.head);
    assert!(
        c.head.contains(&format!("content-encoding: {expect_coding}")) || expect_coding == "identity",
        "{}",
        c.head
    );
    let mut dec = Decoder::new(&c.head);
    let t0 = Instant::now();
    let mut seen = 0;
    let mut times = Vec::new();
    while seen < 4 {
        let chunk = c.next().expect("stream continues");
        let text = dec.feed(&chunk);
        let now = text.matches("data: event").count();
        if now > seen {
            assert_eq!(now, seen + 1, "one event per flush, got {text:?}");
            assert!(text.contains(&format!("data: event {seen}\n\n")), "{text:?}");
            seen = now;
            times.push(t0.elapsed());
        }
    }
    // Events were spread over time as sent, not buffered until the end.
    let spread = times[3] - times[0];
    assert!(spread >= Duration::from_millis(350), "events arrived together: {times:?}");
}

#[test]
fn sse_events_arrive_one_by_one_uncompressed() {
    events_arrive_one_by_one("identity", "identity", false);
    events_arrive_one_by_one("identity", "identity", true);
}

#[test]
fn sse_events_arrive_one_by_one_under_brotli() {
    events_arrive_one_by_one("gzip, deflate, br", "br", false);
    events_arrive_one_by_one("gzip, deflate, br", "br", true);
}

#[test]
fn sse_events_arrive_one_by_one_under_gzip() {
    events_arrive_one_by_one("gzip;q=1, br;q=0", "gzip", false);
    events_arrive_one_by_one("gzip;q=1, br;q=0", "gzip", true);
}

#[test]
fn heartbeat_sent_after_idle_and_keeps_brotli_valid() {
    heartbeat_keeps_brotli_valid(false);
    heartbeat_keeps_brotli_valid(true);
}

fn heartbeat_keeps_brotli_valid(fast: bool) {
    let srv = TestServer::start(|_| {});
    let mut c =
        Chunks::get(&srv, "/sse-idle?hb=200", &format!("Accept-Encoding: br\r\n{}", path_headers(fast)));
    assert_path(&c.head, fast);
    let mut dec = Decoder::new(&c.head);
    let t0 = Instant::now();
    let first = dec.feed(&c.next().unwrap());
    assert_eq!(first, ": ping\n\n");
    assert!(t0.elapsed() >= Duration::from_millis(150), "{:?}", t0.elapsed());
    // An event after a heartbeat still decodes: one encoder for both.
    let stream = srv.app.streams.lock().unwrap()[0].clone();
    stream.try_push(via::http::sse::format_event(b"after", None, None, None).unwrap());
    let text = dec.feed(&c.next().unwrap());
    assert_eq!(text, ": ping\n\ndata: after\n\n");
    let text = dec.feed(&c.next().unwrap());
    assert!(text.ends_with(": ping\n\n"), "{text:?}");
    assert!(srv.handle.stats().sse_heartbeats >= 2);
}

/// Events end a silence: while they come more often than the heartbeat's interval no
/// heartbeat is sent, and one is once they stop. (The heartbeat's clock is read when the
/// stream next waits after its frames went out, not per frame.)
#[test]
fn events_postpone_the_heartbeat() {
    // Pushed as the thread that drives the I/O pushes (`reactor = php`): on the own path the
    // pushes write the events to the waiting writer's socket themselves.
    via::http::stream::drives_io_here();
    for fast in [false, true] {
        let srv = TestServer::start(|c| c.lend_stream_sockets = Some(true));
        let mut c = Chunks::get(&srv, "/sse-idle?hb=500", path_headers(fast));
        assert_path(&c.head, fast);
        let stream = srv.app.streams.lock().unwrap()[0].clone();
        for i in 0..8 {
            // The pacing is what is tested: an event every 100 ms, well inside 500 ms.
            std::thread::sleep(Duration::from_millis(100));
            let event = format!("data: {i}\n\n");
            stream
                .try_push(via::http::sse::format_event(i.to_string().as_bytes(), None, None, None).unwrap());
            let got = String::from_utf8(c.next().unwrap()).unwrap();
            assert_eq!(got, event, "event {i} ({})", if fast { "own path" } else { "hyper" });
        }
        let quiet = Instant::now();
        assert_eq!(String::from_utf8(c.next().unwrap()).unwrap(), ": ping\n\n");
        assert!(quiet.elapsed() >= Duration::from_millis(350), "{:?} after the last event", quiet.elapsed());
        assert_eq!(srv.handle.stats().sse_heartbeats, 1);
    }
}

/// An event stream alone on its connection is written by a task of its own once its head
/// is out, and the connection's task ends (decision 0017): the connection's place under
/// `max_connections` and in `connections_active` must go with the stream, until it closes.
#[test]
fn an_event_stream_keeps_its_connections_place_until_it_closes() {
    let srv = TestServer::start(|c| c.limits.max_connections = 1);
    let c = Chunks::get(&srv, "/sse-idle", path_headers(true));
    assert_path(&c.head, true);
    assert_eq!(srv.handle.stats().connections_active, 1);
    let mut second = srv.connect();
    let r = roundtrip(&mut second, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(r.status, 503, "the stream holds the only place");
    drop(second);
    drop(c);
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    // `Closed` is reported as the writer drops the body; its place goes a moment later.
    let deadline = Instant::now() + Duration::from_secs(5);
    while srv.handle.stats().connections_active != 0 {
        assert!(Instant::now() < deadline, "the stream's place was not given back");
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut third = srv.connect();
    assert_eq!(roundtrip(&mut third, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
}

#[test]
fn client_leaving_an_idle_stream_is_noticed_without_a_write_h1() {
    for fast in [false, true] {
        let srv = TestServer::start(|_| {});
        let c = Chunks::get(&srv, "/sse-idle", path_headers(fast));
        assert_path(&c.head, fast);
        drop(c);
        match srv.seen.next_event(Duration::from_secs(5)) {
            Some(StreamEvent::Closed(_)) => {}
            other => panic!("expected Closed, got {other:?}"),
        }
    }
}

/// The writer of a busy stream finds frames on nearly every wake-up and looks at its
/// socket's readiness without polling it (`stream_conn::pump`): a client that half-closes
/// (its FIN; it still reads, so writes go on succeeding) must be noticed all the same.
#[test]
fn client_leaving_a_busy_stream_is_noticed_while_events_flow() {
    for fast in [false, true] {
        let srv = TestServer::start(|_| {});
        let mut c = Chunks::get(&srv, "/sse?n=100000&ms=1", path_headers(fast));
        assert_path(&c.head, fast);
        for _ in 0..5 {
            assert!(c.next().is_some(), "events flow");
        }
        c.s.shutdown(std::net::Shutdown::Write).unwrap();
        match srv.seen.next_event(Duration::from_secs(5)) {
            Some(StreamEvent::Closed(_)) => {}
            other => panic!("expected Closed (fast path: {fast}), got {other:?}"),
        }
    }
}

/// An event pushed while the writer waits for a full socket (its client not reading) wakes
/// the writer into that wait: once the socket drains, the writer must look at the stream
/// again, or the event waits for a heartbeat (none here) or the next push.
#[test]
fn an_event_pushed_while_the_socket_is_full_is_sent_once_it_drains() {
    for fast in [false, true] {
        let srv = TestServer::start(|_| {});
        let mut c = Chunks::get(&srv, "/sse-idle", path_headers(fast));
        assert_path(&c.head, fast);
        let stream = srv.app.streams.lock().unwrap()[0].clone();
        // Events under a batch's 64 KiB, pushed one at a time once the writer took the one
        // before (each batch then ends with the stream's queue empty), until one stays
        // queued: the writer waits for the full socket, woken by that push.
        let event = Bytes::from(format!("data: {}\n\n", "x".repeat(60_000)));
        let mut pushed = 0;
        'fill: loop {
            assert!(pushed < 2_000, "the socket never filled");
            stream.push(event.clone()).unwrap();
            pushed += 1;
            let taken_by = Instant::now() + Duration::from_millis(300);
            while stream.queued() != 0 {
                if Instant::now() > taken_by {
                    break 'fill;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        for i in 0..pushed {
            let chunk =
                c.next().unwrap_or_else(|| panic!("event {i} of {pushed} never came (fast path: {fast})"));
            assert_eq!(chunk, event);
        }
    }
}

#[test]
fn a_finished_stream_ends_with_the_last_chunk_and_a_close_on_the_fast_path() {
    let srv = TestServer::start(|_| {});
    let mut c = Chunks::get(&srv, "/sse?n=2&ms=10", path_headers(true));
    assert_path(&c.head, true);
    assert!(c.head.starts_with("http/1.1 200 ok\r\n"), "{}", c.head);
    assert!(c.head.contains("transfer-encoding: chunked") && c.head.contains("date: "), "{}", c.head);
    assert!(c.next().unwrap().ends_with(b"data: event 0\n\n"));
    assert!(c.next().unwrap().ends_with(b"data: event 1\n\n"));
    assert_eq!(c.next(), None, "terminating chunk");
    assert_eq!(c.fill(), 0, "then the server closes");
}

#[test]
fn an_event_stream_request_answered_without_a_stream_gets_a_whole_response() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    let r = roundtrip(
        &mut s,
        b"GET /big HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAccept-Encoding: br\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.header("content-encoding"), Some("br"));
    let mut plain = Vec::new();
    brotli::Decompressor::new(&r.body[..], 4096).read_to_end(&mut plain).unwrap();
    assert!(plain.len() > 1000);
}

#[test]
fn client_resetting_an_idle_stream_is_noticed_h2() {
    let srv = TestServer::start(|_| {});
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
        let (client, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = http::Request::get("http://x/sse-idle").body(()).unwrap();
        let (resp, _) = client.ready().await.unwrap().send_request(req, true).unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        drop(resp); // RST_STREAM(CANCEL)
        tokio::time::sleep(Duration::from_millis(50)).await;
    });
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
}

#[test]
fn topic_publish_reaches_every_member_once() {
    let srv = TestServer::start(|_| {});
    let mut clients: Vec<Chunks> =
        (0..20).map(|i| Chunks::get(&srv, "/topic", path_headers(i % 2 == 0))).collect();
    let topics = srv.handle.topics();
    assert_eq!(topics.subscribers("t"), 20);
    let frame = via::http::sse::format_event(b"news", Some(b"n"), None, None).unwrap();
    assert_eq!(topics.publish("t", frame), 20);
    assert_eq!(topics.publish("nobody", Bytes::from_static(b"x")), 0);
    for c in &mut clients {
        assert_eq!(c.next().unwrap(), b"event: n\ndata: news\n\n");
    }
    let s = srv.handle.stats();
    assert_eq!((s.topic_publishes, s.topic_deliveries), (2, 20));
}

fn flood_topic_until(srv: &TestServer, stop: impl Fn(&via::http::StatsSnapshot) -> bool) {
    let topics = srv.handle.topics();
    let frame = Bytes::from(format!("data: {}\n\n", "x".repeat(4000)));
    let t0 = Instant::now();
    while !stop(&srv.handle.stats()) {
        assert!(t0.elapsed() < Duration::from_secs(20), "no backpressure reaction: {:?}", srv.handle.stats());
        topics.publish("t", frame.clone());
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn slow_topic_member_gets_events_dropped_not_unbounded_memory() {
    slow_member_dropped(false);
    slow_member_dropped(true);
}

fn slow_member_dropped(fast: bool) {
    let srv = TestServer::start(|c| c.sse.backpressure = Backpressure::Drop);
    // A client that never reads; a small queue so the socket buffers fill first.
    let _stuck = Chunks::get(&srv, "/topic?cap=65536", path_headers(fast));
    flood_topic_until(&srv, |s| s.sse_dropped > 10);
    let stream = srv.app.streams.lock().unwrap()[0].clone();
    assert!(stream.queued() <= 65536 + 4100, "queue bounded: {}", stream.queued());
    assert!(!stream.is_closed(), "drop policy keeps the stream");
}

#[test]
fn slow_topic_member_is_closed_under_the_close_policy() {
    slow_member_closed(false);
    slow_member_closed(true);
}

fn slow_member_closed(fast: bool) {
    let srv = TestServer::start(|c| c.sse.backpressure = Backpressure::Close);
    let _stuck = Chunks::get(&srv, "/topic?cap=65536", path_headers(fast));
    flood_topic_until(&srv, |s| s.sse_closed_slow > 0);
    assert_eq!(srv.handle.topics().subscribers("t"), 0);
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
}

fn get_raw(srv: &TestServer, path: &str, accept: Option<&str>) -> RawResponse {
    let mut s = srv.connect();
    let accept = accept.map(|a| format!("Accept-Encoding: {a}\r\n")).unwrap_or_default();
    roundtrip(&mut s, format!("GET {path} HTTP/1.1\r\nHost: x\r\n{accept}\r\n").as_bytes()).unwrap()
}

#[test]
fn whole_responses_are_compressed_when_it_helps() {
    let srv = TestServer::start(|_| {});
    let br = get_raw(&srv, "/big", Some("gzip, br"));
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    let mut text = String::new();
    brotli::Decompressor::new(&br.body[..], 4096).read_to_string(&mut text).unwrap();
    assert_eq!(text, "compress me please ".repeat(600));
    assert!(br.body.len() < 300, "{}", br.body.len());

    let gz = get_raw(&srv, "/big", Some("gzip;q=1.0, br;q=0"));
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz.body[..]).read_to_string(&mut text).unwrap();
    assert_eq!(text.len(), 19 * 600);

    let plain = get_raw(&srv, "/big", None);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("accept-encoding"), "caches must know it varies");

    assert_eq!(
        get_raw(&srv, "/small", Some("br")).header("content-encoding"),
        None,
        "below the minimum size"
    );
    let png = get_raw(&srv, "/png", Some("br"));
    assert_eq!(
        (png.header("content-encoding"), png.header("vary")),
        (None, None),
        "already compressed types"
    );
    let own = get_raw(&srv, "/encoded", Some("br"));
    assert_eq!(own.header("content-encoding"), Some("custom"), "the application's own encoding is kept");
    assert_eq!(own.body.len(), 5000);
    let s = srv.handle.stats();
    assert_eq!((s.compressed_br, s.compressed_gzip), (1, 1));
}

#[test]
fn compression_can_be_turned_off() {
    let srv = TestServer::start(|c| c.compression.enabled = false);
    let r = get_raw(&srv, "/big", Some("br"));
    assert_eq!((r.header("content-encoding"), r.header("vary")), (None, None));
}

#[test]
fn client_that_stops_reading_is_cut_at_the_write_timeout() {
    stuck_client_cut(false);
    stuck_client_cut(true);
}

fn stuck_client_cut(fast: bool) {
    let srv = TestServer::start(|c| c.limits.write_timeout = Duration::from_millis(500));
    let _stuck = Chunks::get(&srv, "/topic?cap=100000000", path_headers(fast));
    let t0 = Instant::now();
    flood_topic_until(&srv, |s| s.write_timeouts > 0);
    assert!(t0.elapsed() < Duration::from_secs(10));
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
}

/// Events queued faster than they are written go out batched (several chunks per write):
/// every one arrives, in order, framed, and still decodable under each coding.
#[test]
fn a_burst_of_queued_events_arrives_whole_and_in_order() {
    for fast in [false, true] {
        for accept in ["identity", "br", "gzip"] {
            let srv = TestServer::start(|_| {});
            let mut c = Chunks::get(
                &srv,
                "/sse?n=100&burst=1",
                &format!("Accept-Encoding: {accept}\r\n{}", path_headers(fast)),
            );
            assert_path(&c.head, fast);
            let mut decoder = Decoder::new(&c.head);
            let mut text = String::new();
            while let Some(chunk) = c.next() {
                text = decoder.feed(&chunk);
            }
            let ids: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("id: ")).collect();
            let expected: Vec<String> = (0..100).map(|i| i.to_string()).collect();
            assert_eq!(ids, expected, "fast: {fast}, coding: {accept}");
        }
    }
}

/// A topic's events reach a client that reads slowly through a small receive buffer whole
/// and in order, whoever wrote them: the publisher itself while the stream's writer waits
/// with its socket lent (small events), the writer (events too large for that, the rest of
/// a send the full socket took in part, and what queued meanwhile). Events may be dropped
/// when the queue is full (the topic policy), never torn or reordered.
#[test]
fn a_slow_reader_gets_every_topic_event_whole_and_in_order_whoever_wrote_it() {
    let srv = TestServer::start(|c| {
        c.sse.backpressure = Backpressure::Drop;
        c.lend_stream_sockets = Some(true);
    });
    // A receive buffer small enough, from the start, that the socket fills while the
    // reader pauses (not so small that TCP crawls: a 4 KiB window with delayed ACKs moves
    // ~40 KB a second).
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(16 * 1024).unwrap();
    sock.connect(&srv.addr().into()).unwrap();
    let mut c = Chunks::get_on(sock.into(), "/topic?cap=262144", path_headers(true));
    assert_path(&c.head, true);
    let topics = srv.handle.topics();
    let event = |seq: usize| {
        // Events a push can write itself (under 2 KiB framed); past the first 6,000 every
        // tenth one too large for that. The filler is tied to `seq`.
        let len = if seq >= 6000 && seq % 10 == 9 { 2500 + seq % 700 } else { 1000 + (seq * 131) % 900 };
        let filler = char::from(b'a' + (seq % 26) as u8).to_string().repeat(len);
        Bytes::from(format!("data: {seq} {filler}\n\n"))
    };
    const EVENTS: usize = 8000;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publisher = {
        let (topics, done) = (topics.clone(), done.clone());
        std::thread::spawn(move || {
            // As the thread that drives the I/O publishes (`reactor = php`).
            via::http::stream::drives_io_here();
            // In bursts, with pauses in which the writer catches up and lends its socket
            // again: the next burst's pushes write themselves until the socket is full.
            for seq in 0..EVENTS {
                topics.publish("t", event(seq));
                if seq % 100 == 99 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            // The last one again until it is seen: a full queue may have dropped it.
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                topics.publish("t", event(EVENTS - 1));
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let (mut last, mut seen) = (None::<usize>, 0);
    let t0 = Instant::now();
    while last != Some(EVENTS - 1) {
        assert!(t0.elapsed() < Duration::from_secs(30), "stalled after event {last:?}");
        let chunk = c.next().expect("the stream goes on");
        let text = std::str::from_utf8(&chunk).expect("whole events");
        let seq: usize =
            text.strip_prefix("data: ").and_then(|t| t.split(' ').next()).unwrap().parse().unwrap();
        assert_eq!(chunk, event(seq), "event {seq} torn");
        assert!(last.is_none_or(|l| seq > l || seq == EVENTS - 1), "event {seq} after {last:?}");
        last = Some(seq);
        seen += 1;
        if seen == 1 || seen % 300 == 0 {
            // A reader that pauses: at first long enough for 6,000 small events (~9 MB) to
            // fill the socket (loopback's buffers grow to megabytes) while it is lent.
            std::thread::sleep(Duration::from_millis(if seen == 1 { 300 } else { 30 }));
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    publisher.join().unwrap();
    let s = srv.handle.stats();
    assert!(seen >= 2, "{seen} events seen");
    assert_eq!(s.topic_deliveries + s.sse_dropped, s.topic_publishes, "{s:?}");
}
