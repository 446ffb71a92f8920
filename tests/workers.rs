//! Multi-worker servers end to end: a real `php` master with forked workers, driven by
//! curl and h2load — sticky routing (h1, h2, first visit), a worker killed under load,
//! SIGTERM and SIGUSR1 under load, recycling, a crash loop, topics, the shared table, the
//! workers:// broker across processes, and two servers ("nodes") of two workers each on
//! one real Redis or NATS.

#[path = "support/brokers.rs"]
#[expect(dead_code, reason = "the TLS brokers are for tests/broker_remote.rs")]
mod brokers;
mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::php::{run, PhpServer};

const APP: &str = "tests/apps/workers.php";

fn curl(args: &[&str]) -> (bool, String, String) {
    run("curl", &[&["-sS", "--max-time", "20"], args].concat())
}

fn get_json(url: &str, cookie: Option<u32>) -> Value {
    let c = cookie.map(|i| format!("via_worker={i}"));
    let mut args = vec![url];
    if let Some(c) = &c {
        args.extend(["-b", c.as_str()]);
    }
    let (ok, out, err) = curl(&args);
    assert!(ok, "{url}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{url}: {e}: {out}"))
}

/// (status, headers, body) of one request.
fn request(url: &str, extra: &[&str]) -> (u16, String, String) {
    let (ok, out, err) = curl(&[&["-i"], extra, &[url]].concat());
    assert!(ok, "{url}: {err}");
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// Polls `f` until it returns Some, or panics after `within`.
fn eventually<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(20)); // polling an outside process
    }
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn first_visit_gets_a_cookie_and_then_sticks_over_h1_and_h2() {
    let srv = PhpServer::start(APP, r#"{"workers": 3}"#);
    // Cookie-less requests go round-robin and each gets the cookie of the worker it hit.
    let mut seen = HashSet::new();
    for _ in 0..3 {
        let (status, head, body) = request(&srv.url("/"), &[]);
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        let w = v["worker"].as_u64().unwrap();
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("set-cookie: via_worker={w}; path=/; httponly; samesite=lax")),
            "{head}"
        );
        seen.insert(w);
    }
    assert_eq!(seen.len(), 3, "round-robin over the three workers");
    // With the cookie every request — h1 and h2, on new connections — reaches that worker,
    // and no new cookie is set, not even when the client forges the master's own note of
    // the cookie a held request is to get.
    for w in 0..3u32 {
        let cookie = format!("via_worker={w}");
        for proto in ["--http1.1", "--http2-prior-knowledge"] {
            for forged in ["x-a: 1", "x-via-internal-affinity: 1"] {
                let (status, head, body) = request(&srv.url("/"), &[proto, "-b", &cookie, "-H", forged]);
                assert_eq!(status, 200);
                assert!(!head.to_ascii_lowercase().contains("set-cookie"), "{head}");
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["worker"], w, "{proto}");
            }
        }
    }
    // Many h2 streams on one connection, each routed by its own cookie header.
    let (ok, out, err) =
        run("h2load", &["-n", "300", "-c", "2", "-m", "20", "-H", "cookie: via_worker=2", &srv.url("/")]);
    assert!(ok, "{err}");
    assert!(out.contains("300 succeeded, 0 failed"), "{out}");
    // An index that is out of range is ignored: a fresh cookie is issued.
    let (_, head, _) = request(&srv.url("/"), &["-b", "via_worker=7"]);
    assert!(head.to_ascii_lowercase().contains("set-cookie: via_worker="), "{head}");
}

/// A request's fields reach the worker as the client sent them: over HTTP/1.1 they cross
/// the link as the head's bytes and spans, over HTTP/2 as pairs. Repeated names in any
/// case, an empty value, a tab and obs-text bytes inside values; the map PHP builds has
/// them all.
#[test]
fn a_request_s_fields_reach_the_worker_as_they_came() {
    use std::io::{Read, Write};
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let check = |v: &Value, proto: &str| {
        assert_eq!(v["x-a"], serde_json::json!([hex(b"1"), hex(b"2")]), "{proto}: {v}");
        assert_eq!(v["x-empty"], "", "{proto}: {v}");
        assert_eq!(v["x-tab"], hex(b"a\tb"), "{proto}: {v}");
        assert_eq!(v["x-obs"], hex(b"caf\xe9"), "{proto}: {v}");
        assert_eq!(v["all"]["x-a"], hex(b"1, 2"), "{proto}: {v}");
        assert_eq!(v["all"]["x-empty"], "", "{proto}: {v}");
    };
    for _ in 0..2 {
        // Raw bytes: curl would not send obs-text as it is.
        let mut s = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(
            b"GET /fields HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-Empty:\r\nx-a: 2\r\nX-Tab: a\tb\r\n\
              X-Obs: caf\xe9\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        check(&serde_json::from_str(body).unwrap(), "HTTP/1.1");
    }
    let (status, _, body) = request(
        &srv.url("/fields"),
        &[
            "--http2-prior-knowledge",
            "-H",
            "X-A: 1",
            "-H",
            "x-a: 2",
            "-H",
            "X-Empty;",
            "-H",
            "X-Tab: a\tb",
            "-H",
            "X-Obs: caf",
        ],
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["x-a"], serde_json::json!([hex(b"1"), hex(b"2")]), "{v}");
    assert_eq!(v["x-empty"], "", "{v}");
    assert_eq!(v["x-tab"], hex(b"a\tb"), "{v}");
}

#[test]
fn a_custom_cookie_name_and_identity() {
    let srv = PhpServer::start(APP, r#"{"workers": 2, "affinity_cookie": "pin"}"#);
    let (_, head, _) = request(&srv.url("/"), &[]);
    assert!(head.to_ascii_lowercase().contains("set-cookie: pin="), "{head}");
    let v = get_json(&srv.url("/identity"), None);
    assert_eq!(v["count"], 2);
    assert_eq!(v["master"], srv.child.id());
    assert_ne!(v["pid"], srv.child.id(), "handlers run in a worker, not the master");
}

#[test]
fn a_killed_worker_is_replaced_its_requests_get_502_and_others_are_untouched() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let pid0 = get_json(&srv.url("/"), Some(0))["pid"].as_i64().unwrap() as i32;
    // Load on worker 1 for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok_count, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (url, stop, ok_count, failures) =
            (srv.url("/"), Arc::clone(&stop), Arc::clone(&ok_count), Arc::clone(&failures));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let (ok, out, _) =
                    curl(&["-b", "via_worker=1", "-w", "%{http_code}", "-o", "/dev/null", &url]);
                if ok && out == "200" {
                    ok_count.fetch_add(1, Ordering::Relaxed);
                } else {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    // Five slow requests in flight on worker 0.
    let slow: Vec<_> = (0..5)
        .map(|_| {
            let url = srv.url("/slow?ms=5000");
            std::thread::spawn(move || {
                let started = Instant::now();
                let (ok, out, _) =
                    curl(&["-b", "via_worker=0", "-w", "%{http_code}", "-o", "/dev/null", &url]);
                (ok, out, started.elapsed())
            })
        })
        .collect();
    // The load's requests count as in flight too: the slow handlers count themselves.
    eventually(Duration::from_secs(5), "five slow requests in flight", || {
        (get_json(&srv.url("/slow-started"), Some(1))["n"].as_u64().unwrap_or(0) >= 5).then_some(())
    });
    let killed = Instant::now();
    // SAFETY: a worker process of the server under test.
    unsafe { libc::kill(pid0, libc::SIGKILL) };
    for t in slow {
        let (ok, code, took) = t.join().unwrap();
        assert!(ok, "the slow request did not hang");
        assert_eq!(code, "502", "in flight on the killed worker");
        assert!(took < Duration::from_secs(4), "answered when the worker died, not at the end: {took:?}");
    }
    let new_pid = eventually(Duration::from_secs(1), "a replacement for worker 0", || {
        let (ok, out, _) = curl(&["-b", "via_worker=0", &srv.url("/")]);
        let v: Value = serde_json::from_str(&out).ok()?;
        (ok && v["worker"] == 0 && v["pid"] != pid0).then(|| v["pid"].as_i64().unwrap())
    });
    println!("replacement pid {new_pid} answered {:?} after the kill", killed.elapsed());
    std::thread::sleep(Duration::from_millis(300)); // keep the load running past the replacement
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    assert!(ok_count.load(Ordering::Relaxed) > 10, "the load ran");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "requests to the other worker all succeeded");
    assert!(!pid_alive(pid0));
}

#[test]
fn sigterm_under_load_finishes_every_request_in_flight() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let pids: Vec<i32> =
        (0..2).map(|w| get_json(&srv.url("/"), Some(w))["pid"].as_i64().unwrap() as i32).collect();
    let reqs: Vec<_> = (0..20)
        .map(|i| {
            let url = srv.url("/slow?ms=700");
            let cookie = format!("via_worker={}", i % 2);
            std::thread::spawn(move || curl(&["-b", &cookie, "-w", " %{http_code}", &url]))
        })
        .collect();
    eventually(Duration::from_secs(5), "twenty requests in flight", || {
        let s = get_json(&srv.url("/stats"), Some(0));
        (s["in_flight"].as_u64().unwrap_or(0) >= 21).then_some(())
    });
    sigterm_answers_all(srv, reqs, &pids);
}

/// SIGTERM to the master while `reqs` are in flight: each is answered 200, the server exits
/// cleanly with no child left, and the workers `pids` are gone.
fn sigterm_answers_all(
    srv: PhpServer,
    reqs: Vec<std::thread::JoinHandle<(bool, String, String)>>,
    pids: &[i32],
) {
    srv.signal(libc::SIGTERM);
    for r in reqs {
        let (ok, out, err) = r.join().unwrap();
        assert!(ok, "{err}");
        assert!(out.ends_with(" 200"), "{out}");
    }
    let (code, out) = srv.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(out.contains("master returned\nchildren after start: []"), "{out}");
    for &pid in pids {
        eventually(Duration::from_secs(3), "the workers exit", || (!pid_alive(pid)).then_some(()));
    }
}

#[test]
fn sigusr1_replaces_every_worker_under_load_without_a_failed_request() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let before: Vec<i64> =
        (0..2).map(|w| get_json(&srv.url("/"), Some(w))["pid"].as_i64().unwrap()).collect();
    let load = {
        let url = srv.url("/slow?ms=5");
        std::thread::spawn(move || run("h2load", &["-D", "4", "-c", "8", "-m", "4", &url]))
    };
    eventually(Duration::from_secs(5), "load running", || {
        (get_json(&srv.url("/stats"), Some(0))["requests"].as_u64().unwrap_or(0) > 200).then_some(())
    });
    srv.signal(libc::SIGUSR1);
    let after = eventually(Duration::from_secs(10), "both workers replaced", || {
        let now: Vec<i64> =
            (0..2).map(|w| get_json(&srv.url("/"), Some(w))["pid"].as_i64().unwrap()).collect();
        (now[0] != before[0] && now[1] != before[1]).then_some(now)
    });
    let (ok, out, err) = load.join().unwrap();
    assert!(ok, "{err}");
    let done = out.lines().find(|l| l.starts_with("requests:")).unwrap_or("").to_string();
    assert!(done.contains(" 0 failed, 0 errored, 0 timeout"), "{done}");
    let status = out.lines().find(|l| l.starts_with("status codes:")).unwrap_or("").to_string();
    assert!(status.contains(" 0 4xx, 0 5xx"), "{status}");
    println!("{done}; workers {before:?} → {after:?}");
}

#[test]
fn max_requests_recycles_workers_without_failures() {
    let srv = PhpServer::start(APP, r#"{"workers": 2, "max_requests": 30}"#);
    let (ok, out, err) = run("h2load", &["-n", "400", "-c", "4", "-m", "1", &srv.url("/")]);
    assert!(ok, "{err}");
    assert!(out.contains("400 succeeded, 0 failed"), "{out}");
    let pids = eventually(Duration::from_secs(5), "recycled workers", || {
        let mut pids = HashSet::new();
        for _ in 0..10 {
            pids.insert(get_json(&srv.url("/"), None)["pid"].as_i64().unwrap());
        }
        let lines = srv.log_lines();
        let downs = lines.iter().filter(|l| l.contains(" down pid ")).count();
        (downs >= 4).then_some(pids)
    });
    assert!(!pids.is_empty());
}

#[test]
fn a_crash_loop_stops_the_server_with_an_error() {
    // At debug level: should it ever hang, the panic shows what the supervisor saw.
    let srv = PhpServer::start("tests/apps/crashloop.php", r#"{"crash_limit": 4, "crash_window": 30}"#);
    let (code, _) = srv.wait(Duration::from_secs(20));
    assert_eq!(code, Some(3), "start() threw");
}

#[test]
fn topics_reach_streams_in_every_worker_and_the_table_is_shared() {
    let srv = PhpServer::start(APP, r#"{"workers": 2, "sse_heartbeat": 0}"#);
    let streams: Vec<_> = (0..2)
        .map(|w| {
            let url = srv.url("/events");
            // Worker 0's stream asks for text/event-stream: the master's hyper-free path.
            let accept = if w == 0 { "Accept: text/event-stream" } else { "Accept: */*" };
            std::thread::spawn(move || {
                run(
                    "curl",
                    &["-sS", "-N", "--max-time", "3", "-H", accept, "-b", &format!("via_worker={w}"), &url],
                )
            })
        })
        .collect();
    eventually(Duration::from_secs(5), "two streams open", || {
        let s = get_json(&srv.url("/stats"), Some(0));
        (s["sse_open"].as_u64().unwrap_or(0) == 2).then_some(())
    });
    let v = get_json(&srv.url("/topic?msg=everyone"), Some(1));
    assert_eq!(v["reached"], 2, "one publish reached the streams of both workers");
    for (w, t) in streams.into_iter().enumerate() {
        let (_, out, _) = t.join().unwrap();
        assert!(out.contains(&format!("event: hello\ndata: {w}\n\n")), "{out}");
        assert!(out.contains("event: news\ndata: everyone\n\n"), "{out}");
    }
    for i in 0..10u32 {
        get_json(&srv.url("/count"), Some(i % 2));
    }
    let v = get_json(&srv.url("/count"), Some(0));
    assert_eq!(v["n"], 11, "one counter for both workers");
}

/// With workers, an event stream's queue in the master was unbounded: a topic publish never
/// found it full, and an HTTP/2 client that grants the stream no window had every
/// published frame queued in the master for the connection's life. It is bounded as a
/// worker's own, and cut off once it stalls for `write_timeout`.
#[test]
fn a_stalled_event_stream_in_the_master_is_cut_off_at_a_topic_publish() {
    let srv = PhpServer::start(
        APP,
        r#"{"workers": 2, "sse_heartbeat": 0, "write_timeout": 0.5, "sse_queue_size": 65536, "compression": false}"#,
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", srv.port)).await.unwrap();
        let (mut client, conn) = h2::client::Builder::new()
            .initial_window_size(0)
            .handshake::<_, bytes::Bytes>(tcp)
            .await
            .unwrap();
        tokio::spawn(conn);
        let request = http::Request::get(srv.url("/events")).body(()).unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        // Kept, never read: dropping it would reset the stream.
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let url = srv.url(&format!("/topic?msg={}", "x".repeat(8000)));
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut joined = false;
        loop {
            let url = url.clone();
            let v = tokio::task::spawn_blocking(move || get_json(&url, Some(0))).await.unwrap();
            joined |= v["reached"] == 1;
            if joined && v["reached"] == 0 {
                break; // the stream left the topic: cut off
            }
            assert!(
                Instant::now() < deadline,
                "the stalled stream stayed in the topic (joined: {joined}): {v}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Its worker's side ends too, as the server's doing: not a disconnect (its client
        // is still connected).
        let url = srv.url("/stats");
        let stats = tokio::task::spawn_blocking(move || {
            eventually(Duration::from_secs(10), "the worker's stream closed", || {
                let stats = get_json(&url, Some(0));
                (stats["sse_open"] == 0).then_some(stats)
            })
        })
        .await
        .unwrap();
        assert_eq!(stats["sse_disconnects"], 0, "{stats}");
        drop(response);
    });
}

/// An h2c connection to `srv` whose streams start with `window` bytes of window (and the
/// connection with 1 MiB).
async fn h2c_client(srv: &PhpServer, window: u32) -> h2::client::SendRequest<bytes::Bytes> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", srv.port)).await.unwrap();
    let (client, conn) = h2::client::Builder::new()
        .initial_window_size(window)
        .initial_connection_window_size(1 << 20)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// A GET of `url` from worker 0 (its affinity cookie).
fn get_from_worker_0(url: String) -> http::Request<()> {
    http::Request::get(url).header("cookie", "via_worker=0").body(()).unwrap()
}

/// Has worker 0 answer `path` (a route of `/write`'s kind) to an HTTP/2 client that grants
/// the stream no window, and returns what `/written` then says.
fn to_a_client_that_takes_nothing(srv: &PhpServer, path: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut client = h2c_client(srv, 0).await;
        let (response, _) = client.send_request(get_from_worker_0(srv.url(path)), true).unwrap();
        // Kept, never read, until the write ends: dropping it would reset the stream.
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let url = srv.url("/written");
        let written = tokio::task::spawn_blocking(move || {
            eventually(Duration::from_secs(20), "the write ends", || get_json(&url, Some(0))["n"].as_u64())
        })
        .await
        .unwrap();
        drop(response);
        written
    })
}

/// A worker's streamed answer to a client that takes nothing: the master holds at most the
/// stream's window of it (`sse_queue_size`, 1 MiB), the worker's own queue another 1 MiB,
/// until its `write()` gives up at `write_timeout`. The master used to ask the worker to
/// pause once its queue was full, and took all the worker wrote before the pause arrived:
/// several MiB, as many as a `write()` loop made in the time the pause took to arrive.
#[test]
fn a_workers_streamed_answer_to_a_client_that_takes_nothing_is_bounded_in_the_master() {
    let srv = PhpServer::start(APP, r#"{"workers": 2, "write_timeout": 1, "compression": false}"#);
    let master = srv.child.id() as i32;
    let before = peak_rss_kib(master);
    let written = to_a_client_that_takes_nothing(&srv, "/write?mib=64");
    // The master's 1 MiB and the worker's 1 MiB, and a chunk: ~2 MiB. (With the pause, the
    // worker wrote ~7 MiB and the master's peak grew by ~10 MiB on this test's machine.)
    assert!(written <= 3 << 20, "{written} bytes written to a client that takes nothing");
    let grew = peak_rss_kib(master).saturating_sub(before);
    assert!(grew < 6 * 1024, "the master grew by {grew} KiB at its peak");
    println!("the master grew by {grew} KiB at its peak; {written} bytes written");
}

/// One `write()` larger than the window goes to the master in pieces as the client takes
/// them (the worker's stream task holds the rest): the master held a 32 MiB chunk whole for
/// a client that takes nothing.
#[test]
fn a_write_larger_than_the_window_is_held_by_the_worker_not_the_master() {
    let srv = PhpServer::start(APP, r#"{"workers": 2, "write_timeout": 1, "compression": false}"#);
    let master = srv.child.id() as i32;
    let before = peak_rss_kib(master);
    // The chunk leaves the worker's queue at once (its stream task holds it and sends it in
    // pieces), so the write returns without waiting.
    to_a_client_that_takes_nothing(&srv, "/write-once?mib=32");
    let grew = peak_rss_kib(master).saturating_sub(before);
    assert!(grew < 12 * 1024, "the master grew by {grew} KiB at its peak");
    println!("the master grew by {grew} KiB at its peak");
}

/// With a window, the worker learns of a slow but steady reader's progress as the master's
/// reader takes each chunk: it is not cut off as stalled (`write_timeout` 0.5 s, a reader of
/// ~1 MB/s behind a 2 MiB window, which takes ~2 s to drain).
#[test]
fn a_workers_streamed_answer_read_slowly_but_steadily_is_not_cut_off() {
    let srv = PhpServer::start(
        APP,
        r#"{"workers": 2, "write_timeout": 0.5, "sse_queue_size": 2097152, "compression": false}"#,
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let got = rt.block_on(async {
        let mut client = h2c_client(&srv, 64 << 10).await;
        let (response, _) = client.send_request(get_from_worker_0(srv.url("/write?mib=6")), true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let (mut got, mut unreleased) = (0, 0);
        while let Some(data) = body.data().await {
            let data = data.unwrap_or_else(|e| panic!("the stream was reset after {got} bytes: {e}"));
            got += data.len();
            unreleased += data.len();
            // 32 KiB of window every 32 ms: ~1 MB/s.
            if unreleased >= 32 << 10 {
                tokio::time::sleep(Duration::from_millis(32)).await;
                body.flow_control().release_capacity(unreleased).unwrap();
                unreleased = 0;
            }
        }
        got
    });
    assert_eq!(got, 6 << 20, "the whole answer");
    assert_eq!(get_json(&srv.url("/written"), Some(0))["n"], 6 << 20);
}

/// A reader that takes a topic's frames queued ahead of its worker's events credits the
/// worker nothing, yet it progresses: the master tells the worker each such take (the same
/// credit again), and the worker's `send()` waits on as one process would, rather than
/// cutting the stream at `sse_backpressure_timeout` (1 s here, against ~2 s of topic frames
/// taken 1 KB every 200 ms).
#[test]
fn a_reader_taking_a_topics_frames_ahead_of_its_workers_events_is_not_cut_off() {
    let srv = PhpServer::start(
        APP,
        r#"{"workers": 2, "sse_heartbeat": 0, "compression": false, "sse_queue_size": 16384,
            "sse_backpressure": "wait", "sse_backpressure_timeout": 1}"#,
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (sent, topic) = rt.block_on(async {
        let mut client = h2c_client(&srv, 1000).await;
        let path = srv.url("/events-then-send?n=32");
        let (response, _) = client.send_request(get_from_worker_0(path), true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains("data: ready") {
            let data = body.data().await.expect("the ready event").unwrap();
            body.flow_control().release_capacity(data.len()).unwrap();
            seen.extend_from_slice(&data);
        }
        // Ten topic frames of 1 KB queue in the master, then the worker sends its events
        // behind them: its window there and its own queue fill, and its send() waits. (A
        // frame is taken from the queue whole: small ones make a take every 200 ms.)
        for _ in 0..10 {
            let url = srv.url(&format!("/topic?msg={}", "x".repeat(1000)));
            let v = tokio::task::spawn_blocking(move || get_json(&url, Some(1))).await.unwrap();
            assert_eq!(v["reached"], 1, "{v}");
        }
        let url = srv.url("/go");
        tokio::task::spawn_blocking(move || get_json(&url, Some(1))).await.unwrap();
        // Payload bytes only: `x` is the topic's, `s` the worker's ("news", the topic's
        // event name, has an `s` too).
        let payload = |data: &[u8], b: u8| data.windows(2).filter(|w| w == &[b, b]).count();
        let (mut topic, mut sent, mut text, mut unpaced) = (0usize, 0usize, Vec::new(), 0usize);
        let deadline = Instant::now() + Duration::from_secs(30);
        while sent < 32 * 3999 && Instant::now() < deadline {
            let Some(data) = body.data().await else { break };
            let data = data.unwrap_or_else(|e| {
                panic!("the stream was reset after {topic} bytes of the topic and {sent} of the worker: {e}")
            });
            text.extend_from_slice(&data);
            (topic, sent) = (payload(&text, b'x'), payload(&text, b's'));
            body.flow_control().release_capacity(data.len()).unwrap();
            unpaced += data.len();
            if topic < 10 * 999 && unpaced >= 1000 {
                // The topic's frames, 1 KB every 200 ms: ~2 s in all.
                tokio::time::sleep(Duration::from_millis(200)).await;
                unpaced = 0;
            }
        }
        (sent, topic)
    });
    assert_eq!(topic, 10 * 999, "the topic's frames");
    let written = eventually(Duration::from_secs(5), "the sends end", || {
        get_json(&srv.url("/written"), Some(0))["n"].as_u64()
    });
    assert_eq!(written, 32, "the worker's sends all went");
    assert_eq!(sent, 32 * 3999, "and all arrived");
}

#[test]
fn the_workers_broker_delivers_across_processes_with_the_origin() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    // One publisher's messages arrive in order, so once "marker" is in, anything published
    // before it that was going to arrive has.
    get_json(&srv.url("/publish?topic=news&msg=hello"), Some(0));
    get_json(&srv.url("/publish?topic=others&msg=not-to-self"), Some(0));
    get_json(&srv.url("/publish?topic=news&msg=marker"), Some(0));
    for (w, want) in [(0u32, vec!["hello", "marker"]), (1, vec!["hello", "not-to-self", "marker"])] {
        let got = eventually(Duration::from_secs(3), "the messages arrive", || {
            let v = get_json(&srv.url("/received"), Some(w));
            let list = v["received"].as_array().cloned().unwrap_or_default();
            list.iter().any(|m| m["payload"] == "marker").then_some(list)
        });
        let payloads: Vec<&str> = got.iter().map(|m| m["payload"].as_str().unwrap()).collect();
        assert_eq!(payloads, want, "worker {w}");
        assert!(got.iter().all(|m| m["origin"] == 0));
    }
}

fn rss_kib(pid: i32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The most `pid` held resident so far.
fn peak_rss_kib(pid: i32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// 96 MiB of broker messages for a worker that takes none — first stopped (it reads
/// nothing: the master must not buffer them), then with its PHP thread blocked (its link
/// must not buffer them): both stay near the 16 MiB backlog, the rest is counted as
/// dropped, and the worker serves again afterwards.
#[test]
fn broker_messages_for_a_worker_that_takes_none_are_bounded_and_counted() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let master = srv.child.id() as i32;
    let w1 = get_json(&srv.url("/"), Some(1))["pid"].as_i64().unwrap() as i32;
    let flood = |srv: &PhpServer| {
        for _ in 0..12 {
            get_json(&srv.url("/flood?n=128&size=65536"), Some(0)); // 8 MiB each
        }
    };
    let dropped = |srv: &PhpServer| get_json(&srv.url("/stats"), Some(0))["broker_dropped"].as_u64().unwrap();

    // SAFETY: stopping and continuing our own child's child.
    unsafe { libc::kill(w1, libc::SIGSTOP) };
    let before = rss_kib(master);
    flood(&srv);
    // Worker 0 took its own copies; what the master still holds is worker 1's backlog.
    let grew = rss_kib(master).saturating_sub(before);
    // Without the bound it grows by the whole 96 MiB; with it, by the 16 MiB backlog plus
    // what passes through on the way to worker 0.
    assert!(grew < 64 * 1024, "the master grew by {grew} KiB for a stopped worker");
    println!("master grew by {grew} KiB for a stopped worker");
    let dropped_stopped = eventually(Duration::from_secs(5), "drops counted", || {
        let d = dropped(&srv);
        (d > 0).then_some(d)
    });
    // SAFETY: a signal to a process this test started.
    unsafe { libc::kill(w1, libc::SIGCONT) };
    let got = eventually(Duration::from_secs(10), "the backlog delivered", || {
        let n = get_json(&srv.url("/flooded"), Some(1))["n"].as_u64().unwrap();
        (n >= 128).then_some(n)
    });
    assert!(got < 12 * 128, "worker 1 got {got} of 1536 messages although it was stopped");

    // Now worker 1 reads its link but its PHP thread is blocked.
    let block = {
        let url = srv.url("/block?ms=5000");
        std::thread::spawn(move || get_json(&url, Some(1)))
    };
    eventually(Duration::from_secs(5), "worker 1 blocked", || {
        (get_json(&srv.url("/flooded"), Some(0))["blocked"].as_u64() == Some(1)).then_some(())
    });
    let before = rss_kib(w1);
    flood(&srv);
    let grew = rss_kib(w1).saturating_sub(before);
    assert!(grew < 48 * 1024, "worker 1 grew by {grew} KiB while its PHP thread was blocked");
    println!("worker 1 grew by {grew} KiB while its PHP thread was blocked");
    block.join().unwrap();
    eventually(Duration::from_secs(5), "more drops counted", || {
        (dropped(&srv) > dropped_stopped).then_some(())
    });
    assert_eq!(
        get_json(&srv.url("/"), Some(1))["pid"].as_i64(),
        Some(i64::from(w1)),
        "the same worker serves"
    );
}

/// The children of `pid` (every thread's), zombies included.
fn children(pid: i32) -> HashSet<i32> {
    let mut out = HashSet::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(list.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
    }
    out
}

/// The one child of `parent` that is not a worker: the forker (of the master) or its spare
/// (of the forker).
fn forker_child(parent: i32, workers: &HashSet<i32>, what: &str) -> i32 {
    eventually(Duration::from_secs(5), what, || {
        let others: Vec<i32> = children(parent).difference(workers).copied().collect();
        (others.len() == 1).then(|| others[0])
    })
}

/// Bytes queued unread on the SOCK_SEQPACKET sockets of process `pid` (a forker's control
/// channel), as `ss` reports them.
fn control_queue(pid: i32) -> usize {
    let (ok, out, err) = run("ss", &["-x", "-p", "-n"]);
    assert!(ok, "ss: {err}");
    let tag = format!("pid={pid},");
    out.lines()
        .filter(|l| l.starts_with("u_seq") && l.contains(&tag))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<usize>().ok())
        .sum()
}

fn worker_pid(srv: &PhpServer, index: u32) -> i32 {
    get_json(&srv.url("/"), Some(index))["pid"].as_i64().unwrap() as i32
}

/// `kill -9` of the forker under load, twice: its spare takes over each time (and gets a
/// spare of its own), the workers it forked keep serving as orphans of the master, no
/// request fails; a dead spare is replaced; a killed worker is still replaced (by the new
/// forker), also when the forker dies with it; SIGTERM still ends every process.
#[test]
fn a_killed_forker_is_replaced_by_its_spare_under_load() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let master = srv.child.id() as i32;
    let w: Vec<i32> = (0..2).map(|i| worker_pid(&srv, i)).collect();
    let mut workers: HashSet<i32> = w.iter().copied().collect();
    let mut known: HashSet<i32> = workers.clone();
    let forker = forker_child(master, &workers, "the forker");
    let spare = forker_child(forker, &workers, "a spare forker");
    known.extend([forker, spare]);

    let stop = Arc::new(AtomicBool::new(false));
    let (ok_count, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (url, stop, ok_count, failures) =
            (srv.url("/"), Arc::clone(&stop), Arc::clone(&ok_count), Arc::clone(&failures));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            for i in 0..5_000u32 {
                if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                let cookie = format!("via_worker={}", i % 2);
                let (ok, out, _) = curl(&["-b", &cookie, "-w", "%{http_code}", "-o", "/dev/null", &url]);
                if ok && out == "200" {
                    ok_count.fetch_add(1, Ordering::Relaxed);
                } else {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    eventually(Duration::from_secs(5), "load running", || {
        (ok_count.load(Ordering::Relaxed) > 5).then_some(())
    });

    // Twice: the active forker dies; its spare becomes the master's child and the active
    // forker, and forks a spare of its own.
    let (mut active, mut spare) = (forker, spare);
    for round in 1..=2 {
        let before = ok_count.load(Ordering::Relaxed);
        // SAFETY: the forker process of the server under test.
        unsafe { libc::kill(active, libc::SIGKILL) };
        let next_spare = eventually(Duration::from_secs(5), "the spare takes over", || {
            let adopted = children(master);
            if adopted.contains(&active) || !adopted.contains(&spare) {
                return None; // not reaped yet, or the spare not yet adopted
            }
            let others: Vec<i32> = children(spare).difference(&workers).copied().collect();
            (others.len() == 1).then(|| others[0])
        });
        println!("round {round}: forker {active} killed; {spare} took over with spare {next_spare}");
        known.insert(next_spare);
        (active, spare) = (spare, next_spare);
        eventually(Duration::from_secs(5), "requests served after the kill", || {
            (ok_count.load(Ordering::Relaxed) > before + 5).then_some(())
        });
    }
    // The workers the first forker forked are the master's children now, and still serve.
    assert!(w.iter().all(|p| children(master).contains(p)), "orphaned workers adopted by the master");
    assert_eq!((0..2).map(|i| worker_pid(&srv, i)).collect::<Vec<_>>(), w, "the same workers serve");
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    assert_eq!(failures.load(Ordering::Relaxed), 0, "no request failed while the forker was replaced");
    assert_eq!(get_json(&srv.url("/stats"), Some(1))["forker_restarts"], 2);

    // A dead spare is replaced too.
    // SAFETY: the spare forker of the server under test.
    unsafe { libc::kill(spare, libc::SIGKILL) };
    spare = eventually(Duration::from_secs(5), "a new spare", || {
        let others: Vec<i32> = children(active).difference(&workers).copied().collect();
        (others.len() == 1 && others[0] != spare).then(|| others[0])
    });
    known.insert(spare);

    // A killed worker (an orphan now) is reaped by the master and replaced by the new forker.
    // SAFETY: a worker process of the server under test.
    unsafe { libc::kill(w[0], libc::SIGKILL) };
    let replacement = eventually(Duration::from_secs(5), "a replacement for worker 0", || {
        let (ok, out, _) = curl(&["-b", "via_worker=0", &srv.url("/")]);
        let v: Value = serde_json::from_str(&out).ok()?;
        (ok && v["worker"] == 0 && v["pid"] != w[0]).then(|| v["pid"].as_i64().unwrap() as i32)
    });
    assert!(children(active).contains(&replacement), "forked by the active forker");
    eventually(Duration::from_secs(5), "the killed worker reaped", || {
        (!children(master).contains(&w[0])).then_some(())
    });
    workers.insert(replacement);
    known.insert(replacement);
    assert_eq!(forker_child(active, &workers, "the spare is still there"), spare);

    // A spawn the forker never answers: with the forker stopped, a worker dies and its
    // replacement is asked for (the request waits on the forker's control socket); then the
    // forker dies. The promoted spare must be asked again.
    // SAFETY: processes of the server under test.
    unsafe {
        libc::kill(active, libc::SIGSTOP);
        libc::kill(replacement, libc::SIGKILL);
    }
    eventually(Duration::from_secs(5), "a spawn waiting for the stopped forker", || {
        (control_queue(active) > 0).then_some(())
    });
    // SAFETY: as above.
    unsafe { libc::kill(active, libc::SIGKILL) };
    let again = eventually(Duration::from_secs(5), "worker 0 forked by the next forker", || {
        let (ok, out, _) = curl(&["-b", "via_worker=0", &srv.url("/")]);
        let v: Value = serde_json::from_str(&out).ok()?;
        (ok && v["pid"] != replacement).then(|| v["pid"].as_i64().unwrap() as i32)
    });
    assert!(children(spare).contains(&again), "forked by the promoted spare");
    known.insert(again);
    workers.insert(again);
    let last_spare = forker_child(spare, &workers, "the promoted spare's own spare");
    known.insert(last_spare);
    assert_eq!(worker_pid(&srv, 1), w[1], "worker 1 served throughout");

    srv.signal(libc::SIGTERM);
    let (code, out) = srv.wait(Duration::from_secs(15));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("master returned\nchildren after start: []"), "{out}");
    for pid in known {
        eventually(Duration::from_secs(3), "every process of the server ends", || {
            (!pid_alive(pid)).then_some(())
        });
    }
}

/// With the spare killed together with the forker nothing can fork workers any more: the
/// server stops with a clear error, and leaves no process behind.
#[test]
fn a_forker_that_dies_with_its_spare_stops_the_server_with_an_error() {
    let srv = PhpServer::start(APP, r#"{"workers": 2}"#);
    let master = srv.child.id() as i32;
    let workers: HashSet<i32> = (0..2).map(|i| worker_pid(&srv, i)).collect();
    let forker = forker_child(master, &workers, "the forker");
    let spare = forker_child(forker, &workers, "a spare forker");
    // SAFETY: the forker processes of the server under test. The forker is stopped first:
    // between the two kills it must not fork a new spare (on a busy machine the master has
    // time to ask it for one, and the server then rightly goes on).
    unsafe {
        libc::kill(forker, libc::SIGSTOP);
        libc::kill(spare, libc::SIGKILL);
        libc::kill(forker, libc::SIGKILL);
    }
    let (code, out) = srv.wait(Duration::from_secs(15));
    assert_eq!(code, Some(255), "start() threw: {out}");
    assert!(out.contains("the forker process died and no spare forker was ready"), "{out}");
    for pid in workers.into_iter().chain([forker, spare]) {
        eventually(Duration::from_secs(3), "every process of the server ends", || {
            (!pid_alive(pid)).then_some(())
        });
    }
}

/// Every worker of `srv` reports its broker connected (`want`), through the master's.
fn wait_broker_state(srv: &PhpServer, want: bool) {
    for w in 0..2 {
        eventually(Duration::from_secs(40), "the broker state reaches every worker", || {
            (get_json(&srv.url("/broker"), Some(w))["connected"] == want).then_some(())
        });
    }
}

/// The messages worker `w` of `srv` received with `payload`, by origin.
fn origins_of(srv: &PhpServer, w: u32, payload: &str) -> Vec<i64> {
    let v = get_json(&srv.url("/received"), Some(w));
    let list = v["received"].as_array().cloned().unwrap_or_default();
    list.iter().filter(|m| m["payload"] == payload).filter_map(|m| m["origin"].as_i64()).collect()
}

fn two_nodes_share_a_broker(kind: brokers::Kind) {
    let mut broker = brokers::BrokerServer::start(kind, None);
    let scheme = if kind == brokers::Kind::Redis { "redis" } else { "nats" };
    let dsn = format!("{scheme}://127.0.0.1:{}?channel=e2e", broker.port);
    let env = [("VIA_TEST_BROKER", dsn.as_str())];
    let a = PhpServer::start_with_env(APP, r#"{"workers": 2}"#, &env);
    let b = PhpServer::start_with_env(APP, r#"{"workers": 2}"#, &env);
    wait_broker_state(&a, true);
    wait_broker_state(&b, true);
    if kind == brokers::Kind::Redis {
        // One connection per server: each master holds one, whatever its workers.
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &broker.port.to_string(), "client", "list"])
            .output()
            .expect("redis-cli runs");
        let clients = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("cmd=")).count();
        // Two servers, and redis-cli itself.
        assert_eq!(clients, 3, "{}", String::from_utf8_lossy(&out.stdout));
    }
    get_json(&a.url("/publish?topic=news&msg=cross"), Some(0));
    for w in 0..2 {
        let got = eventually(Duration::from_secs(5), "node B's workers get node A's message", || {
            Some(origins_of(&b, w, "cross")).filter(|o| !o.is_empty())
        });
        assert_eq!(got, vec![-1], "node B worker {w}: once, from another server");
        let own = eventually(Duration::from_secs(5), "node A's workers get it from their master", || {
            Some(origins_of(&a, w, "cross")).filter(|o| !o.is_empty())
        });
        assert_eq!(own, vec![0], "node A worker {w}: once, from worker 0, not again from the broker");
    }
    broker.kill();
    wait_broker_state(&a, false);
    wait_broker_state(&b, false);
    for w in 0..2 {
        let v = get_json(&a.url("/broker"), Some(w));
        let errors = v["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.as_str().is_some_and(|e| e.contains(&format!("127.0.0.1:{}", broker.port)))),
            "worker {w} was told: {errors:?}"
        );
    }
    broker.restart();
    wait_broker_state(&a, true);
    wait_broker_state(&b, true);
    // Pub/sub keeps nothing: publish until the other node has resubscribed too.
    let mut n = 0;
    eventually(Duration::from_secs(20), "messages flow again after the restart", || {
        n += 1;
        get_json(&b.url(&format!("/publish?topic=news&msg=after-{n}")), Some(1));
        std::thread::sleep(Duration::from_millis(100));
        (0..2).all(|w| (1..=n).any(|i| !origins_of(&a, w, &format!("after-{i}")).is_empty())).then_some(())
    });
}

#[test]
fn two_nodes_share_a_redis_broker_through_their_masters() {
    two_nodes_share_a_broker(brokers::Kind::Redis);
}

#[test]
fn two_nodes_share_a_nats_broker_through_their_masters() {
    two_nodes_share_a_broker(brokers::Kind::Nats);
}

/// One process (no master): messages from a shared broker for a PHP thread blocked in a
/// long call are bounded by `broker_backlog` — the rest is dropped and counted — and the
/// server serves and takes messages again afterwards.
#[test]
fn shared_broker_messages_for_a_blocked_php_thread_are_bounded_in_one_process() {
    let broker = brokers::BrokerServer::start(brokers::Kind::Redis, None);
    let dsn = format!("redis://127.0.0.1:{}?channel=backlog&buffer=16777216", broker.port);
    let env = [("VIA_TEST_BROKER", dsn.as_str())];
    let a = PhpServer::start_with_env(APP, r#"{"workers": 1, "broker_backlog": 65536}"#, &env);
    let b = PhpServer::start_with_env(APP, r#"{"workers": 1}"#, &env);
    wait_broker_state(&a, true);
    wait_broker_state(&b, true);
    let block = {
        let url = a.url("/block?ms=3000");
        std::thread::spawn(move || get_json(&url, None))
    };
    // A is blocked once it stops answering.
    eventually(Duration::from_secs(5), "node A blocked", || {
        let (ok, _, _) = curl(&["-s", "-m", "0.2", &a.url("/")]);
        (!ok).then_some(())
    });
    // 2 MiB of messages from node B while A's PHP thread cannot take them.
    get_json(&b.url("/flood?n=256&size=8192"), None);
    block.join().unwrap();
    let dropped = eventually(Duration::from_secs(10), "drops counted", || {
        let d = get_json(&a.url("/stats"), None)["broker_dropped"].as_u64().unwrap_or(0);
        (d > 0).then_some(d)
    });
    let taken = get_json(&a.url("/flooded"), None)["n"].as_u64().unwrap();
    assert!(taken + dropped <= 256 && taken <= 64, "taken {taken}, dropped {dropped}: bounded by 64 KiB");
    // And it takes messages again.
    get_json(&b.url("/flood?n=4&size=100"), None);
    eventually(Duration::from_secs(5), "later messages arrive", || {
        (get_json(&a.url("/flooded"), None)["n"].as_u64().unwrap() >= taken + 4).then_some(())
    });
}

// dispatch = connection: each worker accepts on the shared listener and serves its own
// connections; the master supervises and relays topics, brokers and counters.

const CONNECTION: &str = r#"{"workers": 2, "dispatch": "connection", "sse_heartbeat": 0}"#;

/// The pid of each worker, asked over new connections until both answered (the kernel
/// gives each connection to whichever worker accepts it first).
fn worker_pids_by_connection(srv: &PhpServer) -> [i64; 2] {
    let mut pids = [0i64; 2];
    for _ in 0..400 {
        let v = get_json(&srv.url("/"), None);
        pids[v["worker"].as_u64().unwrap() as usize] = v["pid"].as_i64().unwrap();
        if pids.iter().all(|&p| p != 0) {
            return pids;
        }
    }
    panic!("400 connections did not reach both workers: {pids:?}");
}

/// An event stream on a connection of its own, and the worker that serves it (its first
/// event says which).
fn open_stream(srv: &PhpServer) -> (std::net::TcpStream, u32) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n").unwrap();
    let got = read_until(&mut s, "event: hello\ndata: ");
    let worker = got.rsplit("event: hello\ndata: ").next().unwrap().chars().next().unwrap();
    (s, worker.to_digit(10).unwrap())
}

/// Reads from `s` until what it read contains `want` (and one byte more), or panics.
fn read_until(s: &mut std::net::TcpStream, want: &str) -> String {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(at) = text.find(want) {
            if text.len() > at + want.len() {
                return text;
            }
        }
        let n = s.read(&mut buf).unwrap_or_else(|e| panic!("waiting for {want:?}: {e}; got {text:?}"));
        assert!(n > 0, "the stream ended before {want:?}: {text:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn connection_dispatch_serves_in_both_workers_and_relays_topics_counts_and_metrics() {
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = format!(
        r#"{{"workers": 2, "dispatch": "connection", "sse_heartbeat": 0, "metrics_listen": "127.0.0.1:{metrics_port}"}}"#
    );
    let srv = PhpServer::start(APP, &options);
    let pids = worker_pids_by_connection(&srv);
    assert_ne!(pids[0], pids[1]);
    let (status, head, _) = request(&srv.url("/"), &[]);
    assert_eq!(status, 200);
    assert!(!head.to_ascii_lowercase().contains("set-cookie"), "no affinity cookie: {head}");
    // Streams open one after the other are spread over the workers (`http::balance`): a
    // worker with more connections leaves the next one to the other.
    let mut streams: Vec<(std::net::TcpStream, u32)> = (0..8).map(|_| open_stream(&srv)).collect();
    let in_0 = streams.iter().filter(|(_, w)| *w == 0).count();
    assert!((2..=6).contains(&in_0), "8 streams spread over two workers, {in_0} in worker 0");
    let n = streams.len() as u64;
    let v = get_json(&srv.url("/subscribers"), None);
    assert_eq!(v["n"], n, "subscribers() counts the streams of every worker");
    let v = get_json(&srv.url("/topic?msg=everyone"), None);
    assert_eq!(v["reached"], n, "publish() reached and counted the streams of every worker");
    for (s, _) in &mut streams {
        read_until(s, "event: news\ndata: everyone\n\n");
    }
    // A stream that leaves is no longer counted, in whichever worker it was.
    drop(streams.pop());
    eventually(Duration::from_secs(5), "the closed stream uncounted", || {
        (get_json(&srv.url("/subscribers"), None)["n"] == n - 1).then_some(())
    });
    // The table is shared, as with sticky dispatch.
    for _ in 0..10 {
        get_json(&srv.url("/count"), None);
    }
    assert_eq!(get_json(&srv.url("/count"), None)["n"], 11, "one counter for both workers");
    // Counters and metrics are summed over the workers (each reports every second).
    let served = get_json(&srv.url("/stats"), None)["requests"].as_u64().unwrap();
    assert!(served >= 14, "stats() sums both workers: {served}");
    let metrics_url = format!("http://127.0.0.1:{metrics_port}/metrics");
    eventually(Duration::from_secs(5), "the workers' requests in the master's metrics", || {
        let (ok, text, _) = curl(&[&metrics_url]);
        let line = |name: &str| -> Option<u64> {
            text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok()).map(|v| v as u64)
        };
        let get = line("via_http_requests_total{method=\"GET\",code=\"2xx\"}")?;
        let count = line("via_http_request_duration_seconds_count")?;
        (ok && get >= served && count >= get && line("via_workers_live") == Some(2)).then_some(())
    });
}

#[test]
fn connection_dispatch_reload_and_a_killed_worker_lose_no_request_on_a_new_connection() {
    let srv = PhpServer::start(APP, CONNECTION);
    let before = worker_pids_by_connection(&srv);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok_count, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop, ok_count, failures) =
                (srv.url("/slow?ms=5"), Arc::clone(&stop), Arc::clone(&ok_count), Arc::clone(&failures));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (ok, out, _) = curl(&["-w", "%{http_code}", "-o", "/dev/null", &url]);
                    if ok && out == "200" {
                        ok_count.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    eventually(Duration::from_secs(5), "load running", || {
        (ok_count.load(Ordering::Relaxed) > 20).then_some(())
    });
    srv.signal(libc::SIGUSR1);
    let after = eventually(Duration::from_secs(15), "both workers replaced", || {
        let now = worker_pids_by_connection(&srv);
        (now[0] != before[0] && now[1] != before[1]).then_some(now)
    });
    for pid in before {
        eventually(Duration::from_secs(5), "the old workers exit", || (!pid_alive(pid as i32)).then_some(()));
    }
    // A worker killed outright: its replacement takes its place, the other worker serves
    // meanwhile.
    // SAFETY: a worker process of the server under test.
    unsafe { libc::kill(after[0] as i32, libc::SIGKILL) };
    let replaced = eventually(Duration::from_secs(10), "a replacement for worker 0", || {
        let now = worker_pids_by_connection(&srv);
        (now[0] != after[0]).then_some(now)
    });
    let served = ok_count.load(Ordering::Relaxed);
    eventually(Duration::from_secs(5), "load running after the kill", || {
        (ok_count.load(Ordering::Relaxed) > served + 20).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    println!("{before:?} → {after:?} → {replaced:?}; {} requests", ok_count.load(Ordering::Relaxed));
    // The kill may cut a request in flight on the killed worker (its connection is its
    // own): at most one per load thread.
    let failed = failures.load(Ordering::Relaxed);
    assert!(failed <= 4, "{failed} requests failed");
}

#[test]
fn connection_dispatch_sigterm_finishes_every_request_in_flight() {
    let srv = PhpServer::start(APP, CONNECTION);
    let pids = worker_pids_by_connection(&srv);
    let reqs: Vec<_> = (0..10)
        .map(|_| {
            let url = srv.url("/slow?ms=700");
            std::thread::spawn(move || curl(&["-w", " %{http_code}", &url]))
        })
        .collect();
    eventually(Duration::from_secs(5), "ten requests in flight", || {
        (get_json(&srv.url("/slow-started"), None)["n"].as_u64().unwrap_or(0) >= 10).then_some(())
    });
    sigterm_answers_all(srv, reqs, &pids.map(|p| p as i32));
}

/// One `GET /` over `s` (HTTP/1.1, kept alive): the status and the body.
fn get_on(s: &mut std::net::TcpStream) -> (u16, String) {
    get_path_on(s, "/")
}

/// One `GET path` over `s` (HTTP/1.1, kept alive): the status and the body.
fn get_path_on(s: &mut std::net::TcpStream, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a length");
            if body.len() >= len {
                let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("a status");
                return (status, body[..len].to_string());
            }
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed: {text:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

/// The worker that serves `s`, asked over it.
fn worker_on(s: &mut std::net::TcpStream) -> u64 {
    let (status, body) = get_on(s);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["worker"].as_u64().unwrap()
}

/// A connection to `srv` from the local address `from` (in 127.0.0.0/8): a client of its own
/// for the rate limit.
fn connect_from(srv: &PhpServer, from: [u8; 4]) -> std::net::TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&std::net::SocketAddr::from((from, 0)).into()).unwrap();
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], srv.port)).into()).unwrap();
    let s: std::net::TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Workers that take their own connections count a client's rate together (buckets in
/// memory both share): a client whose 16 connections at once spread over both workers gets
/// its burst of 24 in all, not 24 from each.
#[test]
fn connection_dispatch_limits_a_clients_rate_once_across_the_workers() {
    let srv = PhpServer::start(
        APP,
        r#"{"workers": 2, "dispatch": "connection", "rate_limit": 0.001, "rate_limit_burst": 24}"#,
    );
    // Both workers accept (asked from clients of their own, each within its burst).
    let mut seen = HashSet::new();
    for i in 0..400u32 {
        seen.insert(worker_on(&mut connect_from(&srv, [127, 0, 1 + (i / 200) as u8, 1 + (i % 200) as u8])));
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen.len(), 2, "both workers accept");
    // One client: 16 connections at once (spread over the workers), a request on each
    // (16 of its 24), then two more on each.
    let mut conns: Vec<_> = (0..16).map(|_| connect_from(&srv, [127, 0, 0, 3])).collect();
    let workers: Vec<u64> = conns.iter_mut().map(worker_on).collect();
    assert!(workers.contains(&0) && workers.contains(&1), "spread over both workers: {workers:?}");
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.extend(conns.iter_mut().map(|c| get_on(c).0));
    }
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((16 + ok, limited), (24, 24), "one burst for the client: {statuses:?}");
}

/// A connection to `srv` answered 200 on its first request, a keep-alive `GET /` or an event
/// stream (read up to its first event), and the worker that serves it; `None` when it was
/// refused (503).
fn held_connection(srv: &PhpServer, stream: bool) -> Option<(std::net::TcpStream, u64)> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    if !stream {
        let (status, body) = get_on(&mut s);
        if status == 503 {
            return None;
        }
        assert_eq!(status, 200, "{body}");
        return Some((s, serde_json::from_str::<Value>(&body).unwrap()["worker"].as_u64().unwrap()));
    }
    s.write_all(b"GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    std::io::Read::read_exact(&mut s, &mut head).unwrap();
    match &head {
        b"HTTP/1.1 503" => None,
        b"HTTP/1.1 200" => {
            let got = read_until(&mut s, "event: hello\ndata: ");
            let worker = got.rsplit("event: hello\ndata: ").next().unwrap().chars().next().unwrap();
            Some((s, u64::from(worker.to_digit(10).unwrap())))
        }
        other => panic!("{}", String::from_utf8_lossy(other)),
    }
}

/// `max_connections` is the server's in connection dispatch too: workers that accept their
/// own connections count them together (before, each worker had the whole limit), event
/// streams included (their writer holds the count after the connection's task ended).
#[test]
fn connection_dispatch_limits_the_connections_of_all_workers_together() {
    let srv = PhpServer::start(
        APP,
        r#"{"workers": 2, "dispatch": "connection", "max_connections": 6, "sse_heartbeat": 0}"#,
    );
    worker_pids_by_connection(&srv); // both workers accept
                                     // Six connections kept open one after the other, three of them event streams: spread
                                     // over both workers, three each, well within a limit of six per worker. (Each is tried
                                     // until it is accepted: the connections above are counted until their worker has seen
                                     // them close.)
    let held: Vec<(std::net::TcpStream, u64)> = (0..6)
        .map(|i| {
            eventually(Duration::from_secs(5), "a connection accepted", || held_connection(&srv, i % 2 == 1))
        })
        .collect();
    let workers: Vec<u64> = held.iter().map(|(_, w)| *w).collect();
    assert!(workers.contains(&0) && workers.contains(&1), "spread over both workers: {workers:?}");
    // The seventh is over the server's limit, a request or a stream.
    assert!(held_connection(&srv, false).is_none(), "a seventh connection is refused");
    assert!(held_connection(&srv, true).is_none(), "a seventh stream is refused");
    // A stream that ends makes room again (once its worker has seen it go).
    let (mut plain, mut streams): (Vec<_>, Vec<_>) =
        held.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    drop(streams.pop());
    eventually(Duration::from_secs(5), "a connection accepted again", || held_connection(&srv, false));
    for (_, (c, _)) in &mut plain {
        assert_eq!(get_on(c).0, 200, "the connections within the limit are served");
    }
}

#[test]
fn connection_dispatch_spreads_a_burst_of_connections_over_the_workers() {
    let srv = PhpServer::start(APP, CONNECTION);
    worker_pids_by_connection(&srv); // both workers accept
                                     // Connected at once: the kernel queues them all before either worker runs, and the
                                     // first worker to run would take them all.
    let mut conns: Vec<std::net::TcpStream> =
        (0..16).map(|_| std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap()).collect();
    let workers: Vec<u64> = conns.iter_mut().map(worker_on).collect();
    let in_0 = workers.iter().filter(|&&w| w == 0).count();
    assert!((4..=12).contains(&in_0), "16 connections spread over two workers: {workers:?}");
}

#[test]
fn connection_dispatch_recycles_workers_without_failures_and_carries_the_workers_broker() {
    // The broker: what one worker publishes reaches the other (and the publisher itself on
    // "news"), with the publisher's number as the origin.
    let srv = PhpServer::start(APP, CONNECTION);
    worker_pids_by_connection(&srv); // both workers accept
    let from = get_json(&srv.url("/publish?topic=news&msg=hello"), None)["worker"].as_u64().unwrap();
    // Asked over a connection kept open to one worker, and over new connections, which the
    // other worker takes (the first is ahead by that connection: `http::balance`).
    let mut kept = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    worker_on(&mut kept);
    let mut got = HashSet::new();
    eventually(Duration::from_secs(5), "the message in both workers", || {
        let on_kept: Value = serde_json::from_str(&get_path_on(&mut kept, "/received").1).unwrap();
        for v in [on_kept, get_json(&srv.url("/received"), None)] {
            let list = v["received"].as_array().cloned().unwrap_or_default();
            if list.iter().any(|m| m["payload"] == "hello" && m["origin"] == from) {
                got.insert(v["worker"].as_u64().unwrap());
            }
        }
        (got.len() == 2).then_some(())
    });
    drop(srv);
    // Recycling: past max_requests in both workers, a new connection a request, none
    // fails. One request at a time finds both workers idle, and the kernel's order of
    // wake-ups, not the balance, picks one: requests go on until both were replaced.
    let srv = PhpServer::start(APP, r#"{"workers": 2, "dispatch": "connection", "max_requests": 20}"#);
    let before = worker_pids_by_connection(&srv);
    let mut sent = 0;
    let after = eventually(Duration::from_secs(30), "both workers recycled", || {
        for _ in 0..50 {
            let (status, _, body) = request(&srv.url("/"), &[]);
            assert_eq!(status, 200, "request {sent}: {body}");
            sent += 1;
        }
        let now = worker_pids_by_connection(&srv);
        (now[0] != before[0] && now[1] != before[1]).then_some(now)
    });
    println!("{before:?} → {after:?} after {sent} requests");
}

#[test]
fn connection_dispatch_workers_serve_https_and_h2_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let options = serde_json::json!({
        "workers": 2, "dispatch": "connection", "tls_cert": cert, "tls_key": key,
    });
    let srv = PhpServer::start(APP, &options.to_string());
    let url = format!("https://127.0.0.1:{}/", srv.port);
    // Both workers answer, over HTTP/2 and over HTTP/1.1, each with its own TLS.
    for version in ["--http2", "--http1.1"] {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let (ok, out, err) = curl(&["-k", version, "-w", " %{http_version}", &url]);
            assert!(ok, "{err}");
            let (json, proto) = out.rsplit_once(' ').unwrap();
            assert_eq!(proto, if version == "--http2" { "2" } else { "1.1" });
            seen.insert(serde_json::from_str::<Value>(json).unwrap()["worker"].as_u64().unwrap());
            if seen.len() == 2 {
                break;
            }
        }
        assert_eq!(seen.len(), 2, "both workers over {version}");
    }
    let (ok, out, err) = run("h2load", &["-n", "2000", "-c", "8", "-m", "10", &url]);
    assert!(ok, "{err}");
    assert!(out.contains("2000 succeeded, 0 failed"), "{out}");
}
