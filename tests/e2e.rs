//! End-to-end: a real `php` process serving via.so, driven by curl, h2load and raw
//! sockets. Needs the release build (target/release/libvia.so or $VIA_SO), `php`,
//! `curl` and `h2load` (nghttp2-client); run by scripts/test.sh.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::php::{run, PhpServer};

const APP: &str = "tests/apps/e2e.php";

fn curl(args: &[&str]) -> (bool, String, String) {
    run("curl", &[&["-sS", "--max-time", "20"], args].concat())
}

#[test]
fn curl_keep_alive_reuses_one_connection() {
    let srv = PhpServer::start(APP, "{}");
    let (ok, out, err) = curl(&["-v", &srv.url("/hello"), &srv.url("/hello")]);
    assert!(ok, "{err}");
    assert_eq!(out, "Hello, World!Hello, World!");
    assert!(err.contains("Re-using existing connection"), "{err}");
    assert_eq!(srv.stats()["connections_accepted"], 2, "two curl runs, two connections");
}

#[test]
fn h2c_prior_knowledge_with_curl() {
    let srv = PhpServer::start(APP, "{}");
    let (ok, out, err) = curl(&["--http2-prior-knowledge", &srv.url("/echo?a[]=1&a[]=2")]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["protocol"], "2");
    assert_eq!(v["query"]["a"], serde_json::json!(["1", "2"]));
}

#[test]
fn h2load_many_streams_on_few_connections() {
    let srv = PhpServer::start(APP, "{}");
    let (ok, out, err) = run("h2load", &["-n", "3000", "-c", "4", "-m", "32", &srv.url("/hello")]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("3000 succeeded, 0 failed, 0 errored"), "{out}");
}

/// Several I/O threads hand requests to the one PHP thread (a multi-thread runtime, the
/// inbox's kicker on any of them): nothing is lost or left waiting.
/// The names of a php process's threads, once every thread it started has named itself
/// (a thread sets its name when it begins to run: until then it has the process's).
fn thread_names(pid: u32) -> Vec<String> {
    let read = || {
        let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|n| n.trim().to_owned())
            .collect();
        names.sort();
        names
    };
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let names = read();
        if names.iter().filter(|n| *n == "php").count() == 1 || Instant::now() > until {
            return names;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn by_default_a_server_on_one_cpu_is_driven_by_its_php_thread_with_a_standby() {
    // A child inherits the affinity of the thread that forks it.
    let srv = std::thread::spawn(|| {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; 0 names this thread.
        let ok = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        };
        assert!(ok, "sched_setaffinity");
        PhpServer::start(APP, "{}")
    })
    .join()
    .unwrap();
    let names = thread_names(srv.child.id());
    let reactor = std::env::var("VIA_TEST_REACTOR").unwrap_or_default();
    if reactor.is_empty() || reactor == "php" {
        assert!(names.iter().any(|n| n == "via-standby"), "{names:?}");
        assert!(!names.iter().any(|n| n == "via-io"), "{names:?}");
    }
    let (ok, out, err) = curl(&[&srv.url("/hello")]);
    assert!(ok && out == "Hello, World!", "{out}\n{err}");
    let unpinned = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
    if unpinned && reactor.is_empty() {
        let srv = PhpServer::start(APP, "{}");
        let names = thread_names(srv.child.id());
        assert!(names.iter().any(|n| n == "via-io"), "more CPUs: I/O threads: {names:?}");
        assert!(names.iter().any(|n| n == "via-standby"), "which still watches PHP: {names:?}");
    }
}

#[test]
fn several_io_threads_feed_one_php_thread() {
    let srv = PhpServer::start(APP, r#"{"io_threads": 3}"#);
    let h2 = {
        let url = srv.url("/hello");
        std::thread::spawn(move || run("h2load", &["-n", "4000", "-c", "8", "-m", "8", &url]))
    };
    let (ok, out, err) = run("h2load", &["--h1", "-n", "4000", "-c", "32", &srv.url("/hello")]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("4000 succeeded, 0 failed, 0 errored, 0 timeout"), "{out}");
    let (ok, out, err) = h2.join().unwrap();
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("4000 succeeded, 0 failed, 0 errored, 0 timeout"), "{out}");
    assert_eq!(srv.stats()["in_flight"], 1, "only the stats request itself");
}

#[test]
fn streamed_response_arrives_in_chunks_over_h1_and_h2() {
    let srv = PhpServer::start(APP, "{}");
    let (ok, out, err) = curl(&["-N", &srv.url("/stream?n=4")]);
    assert!(ok, "{err}");
    assert_eq!(out, "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
    let (ok, out, _) = curl(&["--http2-prior-knowledge", "-N", &srv.url("/stream?n=2")]);
    assert!(ok);
    assert_eq!(out, "chunk 0\nchunk 1\n");
}

/// How `/flood` ended (`null` while it runs), asked until it ended or 20 s passed.
async fn flood_result(srv: &PhpServer) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = srv.url("/flood-result");
        let (ok, out, err) =
            tokio::task::spawn_blocking(move || curl(&["-sS", "--max-time", "10", &url])).await.unwrap();
        assert!(ok, "{err}");
        if out != "null" || Instant::now() > deadline {
            return serde_json::from_str(&out).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An h2c connection to `srv` whose streams start with `window` bytes of window.
async fn h2c_client(srv: &PhpServer, window: u32) -> h2::client::SendRequest<bytes::Bytes> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", srv.port)).await.unwrap();
    let (client, conn) = h2::client::Builder::new().initial_window_size(window).handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    client
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// An HTTP/2 client that grants a streamed response no window keeps reading its socket,
/// so no connection write stalls; `Response::write()` waited for it for good (the task and
/// a megabyte queued held per stream). It is cut off at `write_timeout` now. (hyper polls
/// the body only once the stream has window: the stream itself is reset when the client
/// grants some, or goes with its connection.)
#[test]
fn a_streamed_response_given_no_http2_window_is_cut_off_at_the_write_timeout() {
    let srv = PhpServer::start(APP, r#"{"write_timeout": 0.5}"#);
    let (status, result) = current_thread().block_on(async {
        let mut client = h2c_client(&srv, 0).await;
        let request = http::Request::get(srv.url("/flood")).body(()).unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        let response = response.await.unwrap();
        // The body is never read and no window released; the connection stays open.
        (response.status(), flood_result(&srv).await)
    });
    assert_eq!(status, 200);
    assert_eq!(result["ok"], false, "write() ended, saying the client is gone: {result}");
    assert!(result["sent"].as_u64().unwrap() < 8 << 20, "it stopped at its first wait: {result}");
    assert!(srv.stats()["write_timeouts"].as_u64().unwrap() >= 1);
}

/// The write queue counted payload bytes only: 1-byte `write()`s to a client that reads
/// nothing queued a million chunks (~48 MB) before the first wait at its 1 MiB mark. Each
/// chunk counts what holding it costs now, and the writer waits after some 16 thousand.
#[test]
fn tiny_writes_to_a_client_that_reads_nothing_wait_at_the_queue_mark() {
    let srv = PhpServer::start(APP, r#"{"write_timeout": 0.5}"#);
    let result = current_thread().block_on(async {
        let mut client = h2c_client(&srv, 0).await;
        let request = http::Request::get(srv.url("/flood?mib=1&chunk=1")).body(()).unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        assert_eq!(response.await.unwrap().status(), 200);
        flood_result(&srv).await
    });
    assert_eq!(result["ok"], false, "cut off at its first wait: {result}");
    assert!(result["sent"].as_u64().unwrap() < 64 << 10, "{result}");
}

/// An event stream given no HTTP/2 window held a full queue (`sse_queue_size`) for as long
/// as its connection lived: topic publishes dropped its events ("drop", and "wait", which
/// cannot wait in a fan-out), and no write timeout fired, the socket taking the
/// connection's other frames. One connection of 256 such streams held 520 MB. A stream
/// whose full queue took nothing for `write_timeout` is now cut off at the next publish.
#[test]
fn an_event_stream_given_no_http2_window_is_cut_off_once_its_queue_stalls() {
    let srv =
        PhpServer::start(APP, r#"{"write_timeout": 0.5, "sse_queue_size": 65536, "compression": false}"#);
    let stats = current_thread().block_on(async {
        let mut client = h2c_client(&srv, 0).await;
        let request = http::Request::get(srv.url("/room")).body(()).unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let publish = srv.url(&format!("/publish?data={}", "x".repeat(8000)));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = publish.clone();
            let (ok, out, err) =
                tokio::task::spawn_blocking(move || curl(&["-sS", "--max-time", "10", &url])).await.unwrap();
            assert!(ok, "{err}");
            if out == "0" || Instant::now() > deadline {
                // No member left in the topic: the stream was cut off.
                break srv.stats();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(stats["sse_open"], 0, "{stats}");
    assert!(stats["write_timeouts"].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["sse_dropped"].as_u64().unwrap() >= 1, "dropped while it stalled: {stats}");
    assert_eq!(stats["sse_disconnects"], 0, "the server cut it off; its client is still there: {stats}");
}

/// `write_timeout` is time without progress, not time to drain the queue: a client that
/// takes a streamed response slowly but steadily (16 KiB of window every 20 ms, a
/// 64 KiB chunk every 80 ms) is waited for, though its queue takes ~1 s to drain from the
/// high-water mark to the low one and the timeout is 0.3 s.
#[test]
fn a_streamed_response_read_slowly_but_steadily_is_not_cut_off() {
    let srv = PhpServer::start(APP, r#"{"write_timeout": 0.3}"#);
    let (got, result) = current_thread().block_on(async {
        let mut client = h2c_client(&srv, 16 << 10).await;
        let request = http::Request::get(srv.url("/flood?mib=2")).body(()).unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        let mut body = response.await.unwrap().into_body();
        let mut got = 0;
        while let Some(data) = body.data().await {
            let data = data.expect("the stream is not reset");
            got += data.len();
            tokio::time::sleep(Duration::from_millis(20)).await;
            body.flow_control().release_capacity(data.len()).unwrap();
        }
        (got, flood_result(&srv).await)
    });
    assert_eq!(got, 2 << 20);
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(srv.stats()["write_timeouts"], 0);
}

/// A whole answer too large for the socket at once was given `write_timeout` to be
/// written in full; a slow but steady reader of a large download was cut off. The timeout
/// is time without progress now, as for streamed answers.
#[test]
fn a_large_answer_read_slowly_but_steadily_is_not_cut_off() {
    let srv = PhpServer::start(APP, r#"{"write_timeout": 0.3, "compression": false}"#);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /big?mib=24 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    let started = Instant::now();
    let (mut got, mut buf) = (0usize, vec![0u8; 256 << 10]);
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
        std::thread::sleep(Duration::from_millis(10)); // ~25 MB/s at most
    }
    let body = 24 << 20;
    assert!(got > body, "got {got} bytes of a {body}-byte body in {:?}", started.elapsed());
    assert!(started.elapsed() > Duration::from_millis(600), "read slowly: {:?}", started.elapsed());
    assert_eq!(srv.stats()["write_timeouts"], 0);
}

#[test]
fn uploads_are_spooled_and_removed_after_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let upload_dir = dir.path().join("spool");
    std::fs::create_dir(&upload_dir).unwrap();
    let file = dir.path().join("data.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let opts = format!(r#"{{"upload_dir": "{}"}}"#, upload_dir.display());
    let srv = PhpServer::start(APP, &opts);
    let form = format!("doc=@{}", file.display());
    let (ok, out, err) = curl(&["-F", &form, "-F", "title=report", &srv.url("/upload")]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["post"]["title"], "report");
    assert_eq!(v["files"]["doc"]["name"], "data.bin");
    assert_eq!(v["files"]["doc"]["size"], 300_000);
    let (_, md5, _) = run("md5sum", &[file.to_str().unwrap()]);
    assert_eq!(v["files"]["doc"]["md5"], md5.split_whitespace().next().unwrap());
    assert!(v["files"]["doc"]["tmp"].as_str().unwrap().starts_with(upload_dir.to_str().unwrap()));
    // The temp file goes when the request object is freed, right after the handler.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_dir(&upload_dir).unwrap().count() > 0 {
        assert!(Instant::now() < deadline, "spooled upload was not removed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn oversized_body_gets_413_and_oversized_headers_431() {
    let srv = PhpServer::start(APP, r#"{"max_body_size": 1048576, "max_header_size": 8192}"#);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 2 * 1024 * 1024]).unwrap();
    let data = format!("@{}", big.display());
    let (_, code, _) =
        curl(&["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", &data, &srv.url("/echo")]);
    assert_eq!(code, "413");
    let header = format!("X-Big: {}", "a".repeat(20_000));
    let (_, code, _) = curl(&["-o", "/dev/null", "-w", "%{http_code}", "-H", &header, &srv.url("/hello")]);
    assert_eq!(code, "431");
    let (_, code, _) =
        curl(&["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "small", &srv.url("/echo")]);
    assert_eq!(code, "200", "the server still serves");
}

/// `max_body_size` bounds one body, `max_body_memory` their sum: clients that each send most
/// of a large body and wait held `max_connections` × `max_body_size` until `body_timeout`.
/// Past the bound a body is refused 503 on every path (native HTTP/1.1, hyper's h2c, a
/// multipart field), the bodies already read are served, and the room comes back when
/// their requests are done.
#[test]
fn bodies_held_at_once_are_bounded_by_max_body_memory() {
    const KIB: u64 = 1 << 10;
    const LIMIT: u64 = 2048 * KIB;
    let srv = PhpServer::start(APP, &format!(r#"{{"max_body_size": 1048576, "max_body_memory": {LIMIT}}}"#));
    let held = || srv.stats()["body_memory"].as_u64().unwrap();
    // Two bodies of 750 KiB, all but their last byte sent: 1,536,000 bytes held (a body's
    // buffer grows up to its length), so less room is left (561,152 bytes) than a body of
    // 600 KiB needs.
    const PARTIAL: u64 = 750 * KIB;
    let head = format!("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: {PARTIAL}\r\n\r\n");
    let mut partial: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&vec![b'x'; PARTIAL as usize - 1]).unwrap();
            s
        })
        .collect();
    srv.wait_stat("body_memory", 2 * PARTIAL - 2, Duration::from_secs(10));
    assert!(held() <= 2 * PARTIAL, "{}", srv.stats());
    let refused_before = srv.stats()["body_memory_refusals"].as_u64().unwrap();
    assert_eq!(refused_before, 0);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body");
    std::fs::write(&file, vec![b'y'; 600 * 1024]).unwrap();
    let data = format!("@{}", file.display());
    let field = format!("f=<{}", file.display());
    let code = |extra: &[&str]| {
        let mut args = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        args.extend_from_slice(extra);
        let url = srv.url("/echo");
        args.push(&url);
        curl(&args).1
    };
    assert_eq!(code(&["--data-binary", &data]), "503", "HTTP/1.1");
    // curl 7.88 takes the RST_STREAM(NO_ERROR) that ends an upload answered early (RFC 9113
    // §8.1) for an error; h2's client does not.
    let h2c = |len: usize| {
        current_thread().block_on(async {
            let mut client = h2c_client(&srv, 65_535).await;
            let request = http::Request::post(srv.url("/echo")).body(()).unwrap();
            let (response, mut body) = client.send_request(request, false).unwrap();
            body.send_data(vec![b'y'; len].into(), true).unwrap();
            response.await.unwrap().status()
        })
    };
    assert_eq!(h2c(600 * 1024), 503, "h2c");
    assert_eq!(code(&["-F", &field]), "503", "a multipart field");
    let stats = srv.stats();
    assert_eq!(stats["body_memory_refusals"].as_u64().unwrap() - refused_before, 3, "{stats}");

    // The first body, the other gone, is finished and served whole.
    let mut first = partial.remove(0);
    drop(partial);
    first.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    first.write_all(b"x").unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("body_md5") {
        let n = first.read(&mut chunk).unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(&format!("\"body_length\":{PARTIAL}")), "{text}");
    drop(first);
    // Served or left, the bodies give their room back.
    let deadline = Instant::now() + Duration::from_secs(10);
    while held() != 0 {
        assert!(Instant::now() < deadline, "{}", srv.stats());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(h2c(600 * 1024), 200);
    assert_eq!(code(&["--data-binary", &data]), "200");
    assert_eq!(code(&["-F", &field]), "200");
}

#[test]
fn slow_handler_gets_504_at_the_request_timeout() {
    let srv = PhpServer::start(APP, r#"{"request_timeout": 0.5}"#);
    let t = Instant::now();
    let (_, code, _) = curl(&["-o", "/dev/null", "-w", "%{http_code}", &srv.url("/slow?ms=3000")]);
    assert_eq!(code, "504");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(srv.stats()["request_timeouts"], 1);
}

/// A request whose client closed its connection held the connection's place until its
/// handler answered: a few connect-send-close to a slow route kept every other client at
/// 503 (`max_connections`). The close is seen while the answer is awaited now, and the
/// handler holds a place of its own, among as many as `max_connections`. Half of the
/// clients send a blank line after their request, as some do after a body: it is ignored
/// (RFC 9112 §2.2), and the close after it still seen.
#[test]
fn a_client_that_left_frees_its_connection_slot_before_its_handler_answers() {
    let srv = PhpServer::start(APP, r#"{"max_connections": 4}"#);
    let started = Instant::now();
    for i in 0..4 {
        let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        s.write_all(b"GET /slow?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        if i % 2 == 1 {
            s.write_all(b"\r\n").unwrap();
        }
    } // each closed here
    srv.wait_stat("client_aborts", 4, Duration::from_secs(4));
    let (_, code, _) = curl(&["-sS", "-o", "/dev/null", "-w", "%{http_code}", &srv.url("/hello")]);
    assert_eq!(code, "200", "a place was free before the handlers ended");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

/// Past `max_connections` handlers for clients that left, a connection keeps its place
/// until its handler answers: however many send a request and leave, handlers stay bounded.
#[test]
fn handlers_for_clients_that_left_are_bounded() {
    let srv = PhpServer::start(APP, r#"{"max_connections": 3}"#);
    let leave = || {
        let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        s.write_all(b"GET /slow?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    };
    (0..3).for_each(|_| leave());
    srv.wait_stat("client_aborts", 3, Duration::from_secs(3));
    // More leave: no place of their own is left, so they keep their connections'.
    (0..2).for_each(|_| leave());
    // The five handlers and /stats.
    srv.wait_stat("in_flight", 6, Duration::from_secs(3));
    // The place /stats took is free again once the server saw it close: one more that
    // leaves holds it (one refused before that holds nothing, and is tried again).
    let refused = (0..20).any(|_| {
        leave();
        let (_, code, _) = curl(&["-sS", "-o", "/dev/null", "-w", "%{http_code}", &srv.url("/hello")]);
        code == "503"
    });
    assert!(refused, "every place is held");
}

/// A graceful stop waits for the handler of a client that left, as for any other.
#[test]
fn a_graceful_stop_waits_for_the_handler_of_a_client_that_left() {
    let srv = PhpServer::start(APP, r#"{"shutdown_timeout": 10}"#);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.write_all(b"GET /slow?ms=1500&say=orphan HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    drop(s);
    srv.wait_stat("client_aborts", 1, Duration::from_secs(3));
    assert_eq!(srv.stats()["in_flight"], 2, "its handler and /stats");
    srv.signal(libc::SIGTERM);
    let (code, stdout) = srv.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(stdout.contains("slow handler orphan done"), "{stdout}");
    assert!(stdout.contains("stopped cleanly"), "{stdout}");
}

/// … but no longer than `request_timeout`, when the connection would have answered 504.
#[test]
fn a_handler_for_a_client_that_left_is_waited_for_until_the_request_timeout() {
    let srv = PhpServer::start(APP, r#"{"shutdown_timeout": 10, "request_timeout": 0.5}"#);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.write_all(b"GET /slow?ms=8000&say=orphan HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    drop(s);
    srv.wait_stat("client_aborts", 1, Duration::from_secs(3));
    let t = Instant::now();
    srv.signal(libc::SIGTERM);
    let (code, stdout) = srv.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert!(!stdout.contains("slow handler orphan done"), "{stdout}");
}

/// Watching for a client that leaves stops at the bytes of its next request: one that
/// pipelines and then half-closes its side has the request answered that was in flight
/// while the next one waited unread. (The last one, awaited with nothing more to read,
/// sees the close, as hyper with `half_close` off sees it.)
#[test]
fn a_pipelined_request_is_answered_though_its_client_half_closed_after_the_next() {
    let srv = PhpServer::start(APP, "{}");
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\nGET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    assert!(out.contains("slow done"), "{out}");
}

#[test]
fn slow_client_is_dropped_at_the_header_timeout() {
    let srv = PhpServer::start(APP, r#"{"header_timeout": 0.5}"#);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(srv.stats()["header_timeouts"], 1);
}

#[test]
fn sigterm_drains_in_flight_requests_then_exits_zero() {
    let srv = PhpServer::start(APP, r#"{"shutdown_timeout": 10}"#);
    let port = srv.port;
    let clients: Vec<_> = (0..20)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                s.write_all(b"GET /slow?ms=700 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                out
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while srv.stats()["in_flight"].as_u64().unwrap() < 21 {
        assert!(Instant::now() < deadline, "requests did not arrive");
        std::thread::sleep(Duration::from_millis(5));
    }
    srv.signal(libc::SIGTERM);
    for c in clients {
        let out = c.join().unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(out.contains("slow done"), "{out}");
    }
    let (code, stdout) = srv.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(stdout.contains("stopped cleanly"));
}

#[test]
fn sigint_stops_an_idle_server_at_once() {
    let srv = PhpServer::start(APP, "{}");
    let t = Instant::now();
    srv.signal(libc::SIGINT);
    let (code, _) = srv.wait(Duration::from_secs(5));
    assert_eq!(code, Some(0));
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// Requests per second of `n` keep-alive GETs of /hello on one connection.
/// Issue 8, D2: the same PHP calls are framed alike by hyper and by the event-stream path.
#[test]
fn odd_responses_from_php_are_framed_alike_on_both_paths() {
    use support::wire::{exchange, parse_framed};
    let srv = PhpServer::start(APP, "{}");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    for (query, status, framing, body) in [
        ("status=204&data=abc", 204, "none", ""),
        ("status=204&write=1&data=abc", 204, "none", ""),
        ("status=204", 204, "none", ""),
        ("status=304&data=abc", 304, "none", ""),
        ("te=1&data=hello", 200, "length", "hello"),
        ("cl=1&write=1&data=hello", 200, "chunked", "hello"),
        ("date=1&data=d", 200, "length", "d"),
    ] {
        for fast in [false, true] {
            let extra = if fast { "Accept: text/event-stream\r\n" } else { "Connection: close\r\n" };
            let raw = exchange(
                addr,
                format!("GET /shape?{query} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes(),
                false,
            );
            let (f, next) =
                parse_framed(&raw, 0, false).unwrap_or_else(|e| panic!("{query} (fast: {fast}): {e}"));
            assert_eq!(next, raw.len(), "{query} (fast: {fast}): bytes after the answer");
            assert_eq!(
                (f.status, f.framing, f.body.as_slice(), f.dates),
                (status, framing, body.as_bytes(), 1),
                "{query} (fast: {fast})"
            );
        }
    }
}
