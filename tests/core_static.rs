//! Static files served by Rust: safe paths, conditional requests, ranges, MIME types and
//! cached Brotli variants.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use support::*;
use via::config::StaticConfig;

struct Site {
    dir: tempfile::TempDir,
    srv: TestServer,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    std::fs::create_dir_all(root.join("css")).unwrap();
    std::fs::write(root.join("css/app.css"), "body { color: red; }\n".repeat(200)).unwrap();
    std::fs::write(root.join("logo.png"), vec![0x89u8; 3000]).unwrap();
    std::fs::write(root.join("data.bin"), (0..1_000_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>())
        .unwrap();
    std::fs::write(root.join("a b.txt"), "spaced").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "top secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("escape.txt")).unwrap();
    let canonical = std::fs::canonicalize(&root).unwrap();
    let srv = TestServer::start(move |c| {
        c.static_files = Some(StaticConfig {
            root: canonical,
            prefix: "/static/".into(),
            cache_control: "public, max-age=60".into(),
            brotli_cache_size: 1 << 20,
        })
    });
    Site { dir, srv }
}

fn get(srv: &TestServer, path: &str, headers: &str) -> RawResponse {
    let mut s = srv.connect();
    roundtrip(&mut s, format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n").as_bytes()).unwrap()
}

#[test]
fn serves_files_with_validators_and_types() {
    let s = site();
    let r = get(&s.srv, "/static/css/app.css", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(r.header("content-length"), Some("4200"));
    assert!(r.header("etag").unwrap().starts_with('"'));
    assert!(r.header("last-modified").unwrap().ends_with("GMT"));
    assert_eq!(r.header("vary"), Some("accept-encoding"));
    assert_eq!(r.body.len(), 4200);
    assert_eq!(get(&s.srv, "/static/logo.png", "").header("content-type"), Some("image/png"));
    assert_eq!(get(&s.srv, "/static/a%20b.txt", "").text(), "spaced");
    assert!(s.srv.seen.requests.lock().unwrap().is_empty(), "the application never saw them");
    assert_eq!(s.srv.handle.stats().static_hits, 3);
}

#[test]
fn conditional_requests_get_304() {
    let s = site();
    let first = get(&s.srv, "/static/css/app.css", "");
    let etag = first.header("etag").unwrap().to_string();
    let lm = first.header("last-modified").unwrap().to_string();
    let r = get(&s.srv, "/static/css/app.css", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!((r.status, r.body.len()), (304, 0));
    assert_eq!(get(&s.srv, "/static/css/app.css", &format!("If-None-Match: W/{etag}\r\n")).status, 304);
    assert_eq!(get(&s.srv, "/static/css/app.css", &format!("If-Modified-Since: {lm}\r\n")).status, 304);
    // If-None-Match wins over If-Modified-Since.
    let r = get(
        &s.srv,
        "/static/css/app.css",
        &format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {lm}\r\n"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(&s.srv, "/static/css/app.css", "If-Modified-Since: garbage\r\n").status, 200);
}

#[test]
fn byte_ranges() {
    let s = site();
    let r = get(&s.srv, "/static/data.bin", "Range: bytes=10-19\r\n");
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/1000000"));
    assert_eq!(r.body, (10..20u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    let r = get(&s.srv, "/static/data.bin", "Range: bytes=-5\r\n");
    assert_eq!((r.status, r.body.len()), (206, 5));
    let r = get(&s.srv, "/static/data.bin", "Range: bytes=2000000-\r\n");
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */1000000"));
    let r = get(&s.srv, "/static/data.bin", "Range: bytes=0-1, 5-6\r\n");
    assert_eq!((r.status, r.body.len()), (200, 1_000_000), "several ranges: the whole file");
    let r = get(&s.srv, "/static/data.bin", "Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n");
    assert_eq!(r.status, 200, "a stale If-Range gets the whole file");
}

#[test]
fn large_files_stream_intact_and_head_has_no_body() {
    let s = site();
    let r = get(&s.srv, "/static/data.bin", "");
    assert_eq!(r.body.len(), 1_000_000);
    assert_eq!(r.body, std::fs::read(s.dir.path().join("public/data.bin")).unwrap());
    let mut c = s.srv.connect();
    let r = roundtrip(&mut c, b"HEAD /static/data.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!((r.status, r.header("content-length")), (200, Some("1000000")));
}

#[test]
fn no_escape_from_the_root() {
    let s = site();
    for path in [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/css%2f..%2f..%2fsecret.txt",
        "/static/css/%2E%2E/%2E%2E/secret.txt",
        "/static/escape.txt",
        "/static/a%00b",
    ] {
        let r = get(&s.srv, path, "");
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.text().contains("secret"), "{path}");
    }
}

#[test]
fn missing_files_and_directories_go_to_the_application() {
    let s = site();
    assert_eq!(get(&s.srv, "/static/nope.css", "").text(), "nope");
    assert_eq!(get(&s.srv, "/static/css/", "").text(), "nope", "directories are not listed");
    assert_eq!(get(&s.srv, "/static/css", "").text(), "nope");
    let mut c = s.srv.connect();
    let r = roundtrip(&mut c, b"POST /static/css/app.css HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert_eq!(r.text(), "nope", "only GET and HEAD are static");
}

#[test]
fn brotli_variant_is_cached_and_invalidated_when_the_file_changes() {
    let s = site();
    let file = s.dir.path().join("public/css/app.css");
    let br_of = |r: &RawResponse| {
        let mut out = String::new();
        brotli::Decompressor::new(&r.body[..], 4096).read_to_string(&mut out).unwrap();
        out
    };
    let first = get(&s.srv, "/static/css/app.css", "Accept-Encoding: br\r\n");
    assert_eq!(first.header("content-encoding"), None, "compressed in the background, not on the request");
    let deadline = Instant::now() + Duration::from_secs(10);
    let cached = loop {
        let r = get(&s.srv, "/static/css/app.css", "Accept-Encoding: gzip, br\r\n");
        if r.header("content-encoding") == Some("br") {
            break r;
        }
        assert!(Instant::now() < deadline, "never cached");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(br_of(&cached), "body { color: red; }\n".repeat(200));
    assert!(cached.body.len() < 100, "level 11 on repetitive CSS: {}", cached.body.len());
    assert_eq!(
        get(&s.srv, "/static/css/app.css", "Accept-Encoding: gzip\r\n").header("content-encoding"),
        None
    );

    // Change the file (size changes too): the stale variant is not served.
    std::fs::write(&file, "p { margin: 0 }\n".repeat(300)).unwrap();
    let r = get(&s.srv, "/static/css/app.css", "Accept-Encoding: br\r\n");
    if r.header("content-encoding") == Some("br") {
        assert_eq!(br_of(&r), "p { margin: 0 }\n".repeat(300));
    } else {
        assert_eq!(r.text(), "p { margin: 0 }\n".repeat(300));
    }
}

#[test]
fn lax_requests_are_not_served_a_file() {
    let s = site();
    // A file named as a directory is not the file.
    assert_ne!(get(&s.srv, "/static/css/app.css/", "").status, 200);
    // Range numbers are digits only ("+1" parses as a Rust integer).
    assert_eq!(get(&s.srv, "/static/data.bin", "Range: bytes=+1-2\r\n").status, 416);
    assert_eq!(get(&s.srv, "/static/data.bin", "Range: bytes=1-2\r\n").status, 206);
    // A Last-Modified check against a date in the future is ignored, not a 304.
    let r = get(&s.srv, "/static/logo.png", "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n");
    assert_eq!(r.status, 200);
    let last_modified = get(&s.srv, "/static/logo.png", "").header("last-modified").unwrap().to_owned();
    let r = get(&s.srv, "/static/logo.png", &format!("If-Modified-Since: {last_modified}\r\n"));
    assert_eq!(r.status, 304, "a valid past date still validates");
}
