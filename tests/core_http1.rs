//! The HTTP/1.1 core over real sockets: keep-alive, pipelining, bodies, limits, timeouts,
//! streaming and graceful drain.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use support::*;
use via::http::StreamEvent;

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    for _ in 0..3 {
        let r = roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").expect("response");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello");
    }
    assert_eq!(srv.handle.stats().connections_accepted, 1);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    s.write_all(
        b"GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    )
    .unwrap();
    let mut buf = Vec::new();
    let texts: Vec<String> = (0..3).map(|_| read_response(&mut s, &mut buf, false).unwrap().text()).collect();
    assert_eq!(texts, ["slow", "Hello", "bytes:abc"]);
}

#[test]
fn chunked_request_body_is_reassembled() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    let r = roundtrip(
        &mut s,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.text(), "bytes:abcde");
}

#[test]
fn expect_100_continue_gets_an_interim_response() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let interim = read_response(&mut s, &mut buf, false).unwrap();
    assert_eq!(interim.status, 100);
    s.write_all(b"data").unwrap();
    assert_eq!(read_response(&mut s, &mut buf, false).unwrap().text(), "bytes:data");
}

#[test]
fn expect_100_continue_with_too_large_body_gets_413_without_100() {
    let srv = TestServer::start(|c| c.limits.max_body_size = 10);
    let mut s = srv.connect();
    let r = roundtrip(
        &mut s,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 413);
}

#[test]
fn body_over_the_limit_is_413_by_length_and_by_chunks() {
    let srv = TestServer::start(|c| c.limits.max_body_size = 10);
    let mut s = srv.connect();
    let r = roundtrip(&mut s, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890")
        .unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    let mut s = srv.connect();
    let r = roundtrip(
        &mut s,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(srv.handle.stats().body_too_large, 2);
    assert!(srv.seen.requests.lock().unwrap().is_empty(), "the application never saw them");
}

#[test]
fn oversized_headers_get_431() {
    let srv = TestServer::start(|c| c.limits.max_header_size = 8192);
    let mut s = srv.connect();
    let big = format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(9000));
    let r = roundtrip(&mut s, big.as_bytes()).unwrap();
    assert_eq!(r.status, 431);
}

#[test]
fn too_many_headers_get_431() {
    let srv = TestServer::start(|c| c.limits.max_headers = 10);
    let mut s = srv.connect();
    let mut req = String::from("GET /hello HTTP/1.1\r\nHost: x\r\n");
    for i in 0..20 {
        req += &format!("X-H{i}: v\r\n");
    }
    req += "\r\n";
    assert_eq!(roundtrip(&mut s, req.as_bytes()).unwrap().status, 431);
}

#[test]
fn malformed_request_gets_400() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    let r = roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost x\r\nBad Header\r\n\r\n").unwrap();
    assert_eq!(r.status, 400);
}

#[test]
fn application_too_slow_gets_504() {
    let srv = TestServer::start(|c| c.limits.request_timeout = Some(Duration::from_millis(200)));
    let mut s = srv.connect();
    let t = Instant::now();
    let r = roundtrip(&mut s, b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(r.status, 504);
    assert!(t.elapsed() < Duration::from_secs(5));
    let reply = srv.seen.parked.lock().unwrap().pop().unwrap();
    assert!(!reply.is_open(), "the late reply sees that nobody waits");
    assert_eq!(srv.handle.stats().request_timeouts, 1);
    // The connection stays usable.
    assert_eq!(roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
    // A late reply that comes while the connection's next request waits is refused, and
    // that request gets its own answer (the connection reuses one reply slot).
    s.write_all(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let next = srv.seen.next_parked(Duration::from_secs(5)).expect("the next request reaches the app");
    let answer =
        |status| via::http::ResponseStart::full(status, via::http::HeaderList::new(), bytes::Bytes::new());
    assert!(!reply.send(answer(http::StatusCode::CREATED)), "the first request's reply is too late");
    assert!(next.is_open());
    assert!(next.send(answer(http::StatusCode::ACCEPTED)));
    let r = read_response(&mut s, &mut Vec::new(), false).unwrap();
    assert_eq!(r.status, 202, "the answer of the request that waits, not the late one");
    assert_eq!(roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
}

#[test]
fn dropped_reply_gets_500() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    assert_eq!(roundtrip(&mut s, b"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 500);
    assert_eq!(srv.handle.stats().unanswered, 1);
}

#[test]
fn slow_header_sender_is_dropped() {
    let srv = TestServer::start(|c| c.limits.header_timeout = Duration::from_millis(300));
    let mut s = srv.connect();
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n").unwrap();
    let t = Instant::now();
    assert!(closed_by_peer(&mut s), "server closes a connection whose headers never end");
    assert!(t.elapsed() >= Duration::from_millis(250) && t.elapsed() < Duration::from_secs(5));
    assert_eq!(srv.handle.stats().header_timeouts, 1);
}

#[test]
fn silent_connection_is_dropped_after_the_header_timeout() {
    let srv = TestServer::start(|c| c.limits.header_timeout = Duration::from_millis(300));
    let mut s = srv.connect();
    assert!(closed_by_peer(&mut s));
}

#[test]
fn idle_keep_alive_connection_is_closed_after_the_keepalive_timeout() {
    let srv = TestServer::start(|c| {
        c.limits.keepalive_timeout = Duration::from_millis(400);
        c.limits.header_timeout = Duration::from_secs(30);
    });
    let mut s = srv.connect();
    assert_eq!(roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
    let t = Instant::now();
    assert!(closed_by_peer(&mut s));
    assert!(t.elapsed() >= Duration::from_millis(350), "closed after {:?}", t.elapsed());
    assert_eq!(srv.handle.stats().idle_timeouts, 1);
}

/// The connection's timer fires early (armed for the first request's answer) while the
/// connection idles, and is moved to the keep-alive deadline: the idle connection is still
/// closed on time. (The timer registers its waker once per arming, so the early fire must
/// reach a wait that did not register it again.)
#[test]
fn an_idle_connection_is_closed_after_its_timer_fired_early() {
    let srv = TestServer::start(|c| {
        c.limits.request_timeout = Some(Duration::from_millis(150));
        c.limits.keepalive_timeout = Duration::from_millis(600);
        c.limits.header_timeout = Duration::from_secs(30);
    });
    let mut s = srv.connect();
    for _ in 0..3 {
        assert_eq!(roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
    }
    let t = Instant::now();
    assert!(closed_by_peer(&mut s), "the idle connection is closed");
    let idle = t.elapsed();
    assert!(idle >= Duration::from_millis(550) && idle < Duration::from_secs(5), "closed after {idle:?}");
    assert_eq!(srv.handle.stats().idle_timeouts, 1);
    assert_eq!(srv.handle.stats().request_timeouts, 0);
}

fn answer(status: http::StatusCode, body: &'static str) -> via::http::ResponseStart {
    via::http::ResponseStart::full(
        status,
        via::http::HeaderList::new(),
        bytes::Bytes::from_static(body.as_bytes()),
    )
}

/// An answer given from another thread while the connection waits is written to the socket
/// there (`in_place`); the connection then serves its next request, and closes on time
/// when none comes (its keep-alive wait counted from the answer, not from the request).
#[test]
fn an_answer_written_where_it_is_given_leaves_the_connection_serving() {
    let srv = TestServer::start(|c| {
        c.limits.keepalive_timeout = Duration::from_millis(500);
        c.limits.header_timeout = Duration::from_secs(30);
        c.limits.request_timeout = Some(Duration::from_secs(30));
    });
    let mut s = srv.connect();
    for round in 0..3 {
        s.write_all(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let reply = srv.seen.next_parked(Duration::from_secs(5)).expect("the request reaches the app");
        if round == 2 {
            // Held longer than the keep-alive timeout: still answered, the wait is the
            // request's.
            std::thread::sleep(Duration::from_millis(700));
        }
        assert!(reply.send(answer(http::StatusCode::CREATED, "made")));
        let r = read_response(&mut s, &mut Vec::new(), false).unwrap();
        assert_eq!((r.status, r.text().as_str()), (201, "made"), "round {round}");
        assert_eq!(roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
    }
    s.write_all(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let reply = srv.seen.next_parked(Duration::from_secs(5)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(reply.send(answer(http::StatusCode::CREATED, "made")));
    assert_eq!(read_response(&mut s, &mut Vec::new(), false).unwrap().status, 201);
    let t = Instant::now();
    assert!(closed_by_peer(&mut s), "the idle connection is closed");
    let idle = t.elapsed();
    assert!(idle >= Duration::from_millis(450) && idle < Duration::from_secs(5), "closed after {idle:?}");
    let stats = srv.handle.stats();
    assert_eq!((stats.idle_timeouts, stats.in_flight), (1, 0));
}

/// The next request's bytes arrive while the connection waits for an answer that would be
/// written in place: the answer then wakes the connection, which serves that request at
/// once (the bytes' own wake-up was spent while the answer was not there yet).
#[test]
fn a_request_that_arrives_while_an_answer_is_awaited_is_served_when_it_is_given() {
    let srv = TestServer::start(|c| {
        c.limits.keepalive_timeout = Duration::from_secs(10);
        c.limits.request_timeout = Some(Duration::from_secs(30));
    });
    let mut s = srv.connect();
    s.write_all(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let reply = srv.seen.next_parked(Duration::from_secs(5)).expect("the request reaches the app");
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // Not synchronisation (either order must work): time for the server to see the bytes
    // before the answer, the order that needs the answer's own wake-up.
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    assert!(reply.send(answer(http::StatusCode::CREATED, "made")));
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf, false).unwrap().status, 201);
    assert_eq!(read_response(&mut s, &mut buf, false).unwrap().text(), "Hello");
    assert!(t.elapsed() < Duration::from_secs(3), "served after {:?}", t.elapsed());
}

/// A whole answer the client does not read: written as far as the socket takes it, then
/// the connection is cut at the write timeout (not held for ever, not a busy loop).
#[test]
fn a_client_that_stops_reading_a_whole_answer_is_cut_at_the_write_timeout() {
    let srv = TestServer::start(|c| c.limits.write_timeout = Duration::from_millis(500));
    let mut s = srv.connect();
    // Far more than loopback's socket buffers hold.
    s.write_all(b"GET /bytes?n=100000000 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let t0 = Instant::now();
    while srv.handle.stats().write_timeouts == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "not cut: {:?}", srv.handle.stats());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(t0.elapsed() >= Duration::from_millis(450), "cut after {:?}", t0.elapsed());
    assert!(closed_by_peer(&mut s), "the connection is closed");
}

#[test]
fn slow_body_gets_408() {
    let srv = TestServer::start(|c| c.limits.body_timeout = Duration::from_millis(300));
    let mut s = srv.connect();
    let r = roundtrip(&mut s, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab").unwrap();
    assert_eq!(r.status, 408);
    assert_eq!(srv.handle.stats().body_timeouts, 1);
}

#[test]
fn connections_over_the_limit_get_503() {
    let srv = TestServer::start(|c| c.limits.max_connections = 1);
    let mut first = srv.connect();
    assert_eq!(roundtrip(&mut first, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().status, 200);
    let mut second = srv.connect();
    let r = roundtrip(&mut second, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(srv.handle.stats().connections_rejected, 1);
    drop(first);
}

#[test]
fn streamed_response_arrives_chunked() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    let r = roundtrip(&mut s, b"GET /stream?n=3 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.text(), "chunk0\nchunk1\nchunk2\n");
}

#[test]
fn client_leaving_a_stream_is_reported() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    s.write_all(b"GET /stream?n=1000&ms=20 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 64];
    while !String::from_utf8_lossy(&buf).contains("chunk0") {
        let n = std::io::Read::read(&mut s, &mut tmp).unwrap();
        buf.extend_from_slice(&tmp[..n]);
    }
    drop(s);
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
}

#[test]
fn multipart_fields_and_files_are_spooled_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let srv = TestServer::start(move |c| c.upload_dir = Some(path));
    let body = "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"dir/x.txt\"\r\nContent-Type: text/plain\r\n\r\nfile-content\r\n\
--XX--\r\n";
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = srv.connect();
    let r = roundtrip(&mut s, req.as_bytes()).unwrap();
    assert_eq!(r.text(), "multipart:a=1;file f=x.txt:file-content;");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "temp files are gone after the request");
}

#[test]
fn truncated_multipart_is_400_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let srv = TestServer::start(move |c| c.upload_dir = Some(path));
    let body = "--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\npartial";
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = srv.connect();
    assert_eq!(roundtrip(&mut s, req.as_bytes()).unwrap().status, 400);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn graceful_drain_finishes_in_flight_requests_and_refuses_new_ones() {
    let srv = TestServer::start(|_| {});
    let mut s = srv.connect();
    s.write_all(b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // Wait until the request reached the application, then drain.
    let t = Instant::now();
    while srv.handle.stats().in_flight == 0 {
        assert!(t.elapsed() < Duration::from_secs(5));
        std::thread::yield_now();
    }
    srv.handle.begin_shutdown();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false).expect("in-flight request completes");
    assert_eq!(r.text(), "slow");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(srv.seen.wait_drained(Duration::from_secs(5)), "drained() reported");
    assert!(std::net::TcpStream::connect(srv.addr()).is_err(), "listener is closed");
}
